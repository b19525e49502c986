"""Identity: users, accounts, sessions and sign-in, in the Auth.js schema on PostgreSQL."""
