-- Schema version 3: the logo a merchant uploads, served by the portal and printed on return labels.
-- Written from the EF model; SchemaTests prove a migrated database matches the model.

CREATE TABLE "merchant_logos" (
    "merchant_id" TEXT NOT NULL CONSTRAINT "PK_merchant_logos" PRIMARY KEY,
    "content_type" TEXT NOT NULL,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    "sha256" TEXT NOT NULL,
    "data" BLOB NOT NULL,
    "updated_at" INTEGER NOT NULL,
    CONSTRAINT "FK_merchant_logos_merchants_merchant_id" FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id") ON DELETE CASCADE
);
