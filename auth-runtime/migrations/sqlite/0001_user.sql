-- FastAPI Users' `user` table (fastapi_users_db_sqlalchemy 7, SQLAlchemy on SQLite),
-- column for column, so a FastAPI Users database opens as is.
CREATE TABLE IF NOT EXISTS "user" (
    id CHAR(36) NOT NULL,
    email VARCHAR(320) NOT NULL,
    hashed_password VARCHAR(1024) NOT NULL,
    is_active BOOLEAN NOT NULL,
    is_superuser BOOLEAN NOT NULL,
    is_verified BOOLEAN NOT NULL,
    PRIMARY KEY (id)
);
CREATE UNIQUE INDEX IF NOT EXISTS ix_user_email ON "user" (email);
-- FastAPI Users compares lower(email) but only checks before inserting; this index
-- makes case-insensitive uniqueness hold under concurrent registrations.
CREATE UNIQUE INDEX IF NOT EXISTS warden_user_email_lower ON "user" (lower(email));
