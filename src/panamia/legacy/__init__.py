"""Moving NextAuth's MongoDB auth data into PostgreSQL (seed phases 2 and 3)."""
