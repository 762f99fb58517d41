-- Schema version 11: staff accounts (ASP.NET Core Identity's columns), their roles per merchant, invitations,
-- internal notes on returns and saved queue views. Written from the EF model; SchemaTests prove a migrated database matches the model.

CREATE TABLE staff_users (
    id uuid NOT NULL,
    email character varying(320) NOT NULL,
    normalized_email character varying(320) NOT NULL,
    name character varying(200) NOT NULL,
    password_hash character varying(200),
    security_stamp character varying(64) NOT NULL,
    lockout_enabled boolean NOT NULL,
    lockout_end timestamp with time zone,
    access_failed_count integer NOT NULL,
    two_factor_enabled boolean NOT NULL,
    authenticator_key character varying(64),
    recovery_codes character varying(1000),
    created_at timestamp with time zone NOT NULL,
    last_sign_in_at timestamp with time zone,
    CONSTRAINT "PK_staff_users" PRIMARY KEY (id)
);

CREATE TABLE staff_memberships (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    user_id uuid NOT NULL,
    role character varying(16) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_staff_memberships" PRIMARY KEY (id),
    CONSTRAINT "FK_staff_memberships_merchants_merchant_id" FOREIGN KEY (merchant_id) REFERENCES merchants (id) ON DELETE RESTRICT,
    CONSTRAINT "FK_staff_memberships_staff_users_user_id" FOREIGN KEY (user_id) REFERENCES staff_users (id) ON DELETE CASCADE
);

CREATE TABLE staff_invitations (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    email character varying(320) NOT NULL,
    role character varying(16) NOT NULL,
    token_hash character varying(64) NOT NULL,
    invited_by character varying(320) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    accepted_at timestamp with time zone,
    revoked_at timestamp with time zone,
    CONSTRAINT "PK_staff_invitations" PRIMARY KEY (id),
    CONSTRAINT "FK_staff_invitations_merchants_merchant_id" FOREIGN KEY (merchant_id) REFERENCES merchants (id) ON DELETE RESTRICT
);

CREATE TABLE return_notes (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    return_id uuid NOT NULL,
    author character varying(320) NOT NULL,
    body character varying(5000) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_return_notes" PRIMARY KEY (id),
    CONSTRAINT "FK_return_notes_merchants_merchant_id" FOREIGN KEY (merchant_id) REFERENCES merchants (id) ON DELETE RESTRICT,
    CONSTRAINT "FK_return_notes_returns_return_id" FOREIGN KEY (return_id) REFERENCES returns (id) ON DELETE CASCADE
);

CREATE TABLE saved_views (
    id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    user_id uuid NOT NULL,
    name character varying(100) NOT NULL,
    query character varying(2000) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_saved_views" PRIMARY KEY (id),
    CONSTRAINT "FK_saved_views_merchants_merchant_id" FOREIGN KEY (merchant_id) REFERENCES merchants (id) ON DELETE RESTRICT,
    CONSTRAINT "FK_saved_views_staff_users_user_id" FOREIGN KEY (user_id) REFERENCES staff_users (id) ON DELETE CASCADE
);

CREATE INDEX "IX_return_notes_merchant_id" ON return_notes (merchant_id);

CREATE INDEX "IX_return_notes_return_id_created_at" ON return_notes (return_id, created_at);

CREATE INDEX "IX_saved_views_merchant_id_user_id" ON saved_views (merchant_id, user_id);

CREATE INDEX "IX_saved_views_user_id" ON saved_views (user_id);

CREATE INDEX "IX_staff_invitations_merchant_id_created_at" ON staff_invitations (merchant_id, created_at);

CREATE UNIQUE INDEX "IX_staff_invitations_token_hash" ON staff_invitations (token_hash);

CREATE UNIQUE INDEX "IX_staff_memberships_merchant_id_user_id" ON staff_memberships (merchant_id, user_id);

CREATE INDEX "IX_staff_memberships_user_id" ON staff_memberships (user_id);

CREATE UNIQUE INDEX "IX_staff_users_normalized_email" ON staff_users (normalized_email);
