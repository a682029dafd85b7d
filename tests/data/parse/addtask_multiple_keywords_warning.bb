addtask x before a after b before c
