-- Schema version 13: analytics. Pre-summed rollups per (merchant, scope, dimension, day, key), the last fact counted
-- per return or order, and the queue of returns and orders whose facts must be recomputed. Written from the EF model;
-- SchemaTests prove a migrated database matches the model. Every existing order and return is queued, so an upgraded
-- database fills its rollups in the background through the same path as new events.
CREATE TABLE "analytics_facts" (
    "entity_id" TEXT NOT NULL CONSTRAINT "PK_analytics_facts" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "day" INTEGER NOT NULL,
    "json" TEXT NOT NULL,
    "updated_at" INTEGER NOT NULL
);

CREATE TABLE "analytics_pending" (
    "entity_id" TEXT NOT NULL CONSTRAINT "PK_analytics_pending" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "available_at" INTEGER NOT NULL,
    "version" INTEGER NOT NULL
);

CREATE TABLE "analytics_rollups" (
    "merchant_id" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "dim" TEXT NOT NULL,
    "day" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "returns" INTEGER NOT NULL,
    "units" INTEGER NOT NULL,
    "value" INTEGER NOT NULL,
    "refund_total" INTEGER NOT NULL,
    "fees_total" INTEGER NOT NULL,
    "recovered_value" INTEGER NOT NULL,
    "store_credit" INTEGER NOT NULL,
    "exchanges" INTEGER NOT NULL,
    "auto_approved" INTEGER NOT NULL,
    "cycle_count" INTEGER NOT NULL,
    "cycle_hours" REAL NOT NULL,
    "small_units" INTEGER NOT NULL,
    "large_units" INTEGER NOT NULL,
    "quality_units" INTEGER NOT NULL,
    "used_units" INTEGER NOT NULL,
    "orders" INTEGER NOT NULL,
    "sold_units" INTEGER NOT NULL,
    "sold_value" INTEGER NOT NULL,
    CONSTRAINT "PK_analytics_rollups" PRIMARY KEY ("merchant_id", "scope", "dim", "day", "key")
);

CREATE INDEX "IX_analytics_facts_merchant_id_day" ON "analytics_facts" ("merchant_id", "day");

CREATE INDEX "IX_analytics_pending_available_at" ON "analytics_pending" ("available_at");

INSERT INTO analytics_pending (entity_id, merchant_id, kind, available_at, version) SELECT id, merchant_id, 'order', 0, 0 FROM orders;

INSERT INTO analytics_pending (entity_id, merchant_id, kind, available_at, version) SELECT id, merchant_id, 'return', 0, 0 FROM returns;
