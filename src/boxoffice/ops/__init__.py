"""Operations: backups (the stack's backup job and the embedded server's archive), the daily
retention job and their settings; the synthetic checks run against a deployment."""
