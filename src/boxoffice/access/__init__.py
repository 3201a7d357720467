"""Who may call what: principals, the device route table, permissions and built-in roles."""
