SUMMARY = "One shell"
PROVIDES = "virtual/shell"
