-- Schema version 3: the logo a merchant uploads, served by the portal and printed on return labels.
-- Written from the EF model; SchemaTests prove a migrated database matches the model.

CREATE TABLE merchant_logos (
    merchant_id uuid NOT NULL,
    content_type character varying(32) NOT NULL,
    width integer NOT NULL,
    height integer NOT NULL,
    sha256 character varying(64) NOT NULL,
    data bytea NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_merchant_logos" PRIMARY KEY (merchant_id),
    CONSTRAINT "FK_merchant_logos_merchants_merchant_id" FOREIGN KEY (merchant_id) REFERENCES merchants (id) ON DELETE CASCADE
);
