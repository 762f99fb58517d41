-- Schema version 13: analytics. Pre-summed rollups per (merchant, scope, dimension, day, key), the last fact counted
-- per return or order, and the queue of returns and orders whose facts must be recomputed. Written from the EF model;
-- SchemaTests prove a migrated database matches the model. Every existing order and return is queued, so an upgraded
-- database fills its rollups in the background through the same path as new events.
CREATE TABLE analytics_facts (
    entity_id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    kind character varying(8) NOT NULL,
    day integer NOT NULL,
    json text NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_analytics_facts" PRIMARY KEY (entity_id)
);

CREATE TABLE analytics_pending (
    entity_id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    kind character varying(8) NOT NULL,
    available_at timestamp with time zone NOT NULL,
    version integer NOT NULL,
    CONSTRAINT "PK_analytics_pending" PRIMARY KEY (entity_id)
);

CREATE TABLE analytics_rollups (
    merchant_id uuid NOT NULL,
    scope character varying(120) NOT NULL,
    dim character varying(32) NOT NULL,
    day integer NOT NULL,
    key character varying(120) NOT NULL,
    returns bigint NOT NULL,
    units bigint NOT NULL,
    value bigint NOT NULL,
    refund_total bigint NOT NULL,
    fees_total bigint NOT NULL,
    recovered_value bigint NOT NULL,
    store_credit bigint NOT NULL,
    exchanges bigint NOT NULL,
    auto_approved bigint NOT NULL,
    cycle_count bigint NOT NULL,
    cycle_hours double precision NOT NULL,
    small_units bigint NOT NULL,
    large_units bigint NOT NULL,
    quality_units bigint NOT NULL,
    used_units bigint NOT NULL,
    orders bigint NOT NULL,
    sold_units bigint NOT NULL,
    sold_value bigint NOT NULL,
    CONSTRAINT "PK_analytics_rollups" PRIMARY KEY (merchant_id, scope, dim, day, key)
);

CREATE INDEX "IX_analytics_facts_merchant_id_day" ON analytics_facts (merchant_id, day);

CREATE INDEX "IX_analytics_pending_available_at" ON analytics_pending (available_at);

INSERT INTO analytics_pending (entity_id, merchant_id, kind, available_at, version) SELECT id, merchant_id, 'order', '1970-01-01T00:00:00Z', 0 FROM orders;

INSERT INTO analytics_pending (entity_id, merchant_id, kind, available_at, version) SELECT id, merchant_id, 'return', '1970-01-01T00:00:00Z', 0 FROM returns;
