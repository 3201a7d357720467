"""Employees, roles, store memberships, logins, lockout and supervisor approvals."""
