-- Schema version 11: staff accounts (ASP.NET Core Identity's columns), their roles per merchant, invitations,
-- internal notes on returns and saved queue views. Written from the EF model; SchemaTests prove a migrated database matches the model.

CREATE TABLE "staff_users" (
    "id" TEXT NOT NULL CONSTRAINT "PK_staff_users" PRIMARY KEY,
    "email" TEXT NOT NULL,
    "normalized_email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "password_hash" TEXT NULL,
    "security_stamp" TEXT NOT NULL,
    "lockout_enabled" INTEGER NOT NULL,
    "lockout_end" INTEGER NULL,
    "access_failed_count" INTEGER NOT NULL,
    "two_factor_enabled" INTEGER NOT NULL,
    "authenticator_key" TEXT NULL,
    "recovery_codes" TEXT NULL,
    "created_at" INTEGER NOT NULL,
    "last_sign_in_at" INTEGER NULL
);

CREATE TABLE "staff_memberships" (
    "id" TEXT NOT NULL CONSTRAINT "PK_staff_memberships" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    CONSTRAINT "FK_staff_memberships_merchants_merchant_id" FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id") ON DELETE RESTRICT,
    CONSTRAINT "FK_staff_memberships_staff_users_user_id" FOREIGN KEY ("user_id") REFERENCES "staff_users" ("id") ON DELETE CASCADE
);

CREATE TABLE "staff_invitations" (
    "id" TEXT NOT NULL CONSTRAINT "PK_staff_invitations" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "invited_by" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    "expires_at" INTEGER NOT NULL,
    "accepted_at" INTEGER NULL,
    "revoked_at" INTEGER NULL,
    CONSTRAINT "FK_staff_invitations_merchants_merchant_id" FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id") ON DELETE RESTRICT
);

CREATE TABLE "return_notes" (
    "id" TEXT NOT NULL CONSTRAINT "PK_return_notes" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "return_id" TEXT NOT NULL,
    "author" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    CONSTRAINT "FK_return_notes_merchants_merchant_id" FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id") ON DELETE RESTRICT,
    CONSTRAINT "FK_return_notes_returns_return_id" FOREIGN KEY ("return_id") REFERENCES "returns" ("id") ON DELETE CASCADE
);

CREATE TABLE "saved_views" (
    "id" TEXT NOT NULL CONSTRAINT "PK_saved_views" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "query" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    CONSTRAINT "FK_saved_views_merchants_merchant_id" FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id") ON DELETE RESTRICT,
    CONSTRAINT "FK_saved_views_staff_users_user_id" FOREIGN KEY ("user_id") REFERENCES "staff_users" ("id") ON DELETE CASCADE
);

CREATE INDEX "IX_return_notes_merchant_id" ON "return_notes" ("merchant_id");

CREATE INDEX "IX_return_notes_return_id_created_at" ON "return_notes" ("return_id", "created_at");

CREATE INDEX "IX_saved_views_merchant_id_user_id" ON "saved_views" ("merchant_id", "user_id");

CREATE INDEX "IX_saved_views_user_id" ON "saved_views" ("user_id");

CREATE INDEX "IX_staff_invitations_merchant_id_created_at" ON "staff_invitations" ("merchant_id", "created_at");

CREATE UNIQUE INDEX "IX_staff_invitations_token_hash" ON "staff_invitations" ("token_hash");

CREATE UNIQUE INDEX "IX_staff_memberships_merchant_id_user_id" ON "staff_memberships" ("merchant_id", "user_id");

CREATE INDEX "IX_staff_memberships_user_id" ON "staff_memberships" ("user_id");

CREATE UNIQUE INDEX "IX_staff_users_normalized_email" ON "staff_users" ("normalized_email");
