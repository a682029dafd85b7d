SUMMARY = "Needs the skipped provider"
DEPENDS = "virtual/skippy"
