SUMMARY = "Another shell; nothing prefers either"
PROVIDES = "virtual/shell"
