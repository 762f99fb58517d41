-- Schema version 1: the returns core (merchants, keys, orders, policies, returns, audit, outbox).
-- Written from the EF model; SchemaTests prove a migrated database matches the model.

CREATE TABLE "audit_events" (
    "id" TEXT NOT NULL CONSTRAINT "PK_audit_events" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "entity_type" TEXT NOT NULL,
    "entity_id" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "from_state" TEXT NULL,
    "to_state" TEXT NULL,
    "actor_type" TEXT NOT NULL,
    "actor_id" TEXT NULL,
    "actor_name" TEXT NULL,
    "reason" TEXT NULL,
    "data_json" TEXT NULL,
    "occurred_at" INTEGER NOT NULL
);


CREATE TABLE "idempotency_records" (
    "merchant_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "status_code" INTEGER NOT NULL,
    "response_body" TEXT NOT NULL,
    "location" TEXT NULL,
    "created_at" INTEGER NOT NULL,
    CONSTRAINT "PK_idempotency_records" PRIMARY KEY ("merchant_id", "key")
);


CREATE TABLE "merchants" (
    "id" TEXT NOT NULL CONSTRAINT "PK_merchants" PRIMARY KEY,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "currency" TEXT NOT NULL,
    "time_zone" TEXT NOT NULL,
    "default_locale" TEXT NOT NULL,
    "supported_locales" TEXT NOT NULL,
    "brand_color" TEXT NULL,
    "logo_url" TEXT NULL,
    "shopify_domain" TEXT NULL,
    "shopify_secret" TEXT NULL,
    "created_at" INTEGER NOT NULL
);


CREATE TABLE "outbox_deliveries" (
    "message_id" TEXT NOT NULL,
    "handler" TEXT NOT NULL,
    "processed_at" INTEGER NOT NULL,
    CONSTRAINT "PK_outbox_deliveries" PRIMARY KEY ("message_id", "handler")
);


CREATE TABLE "outbox_messages" (
    "id" TEXT NOT NULL CONSTRAINT "PK_outbox_messages" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    "available_at" INTEGER NOT NULL,
    "attempts" INTEGER NOT NULL,
    "processed_at" INTEGER NULL,
    "dead_at" INTEGER NULL,
    "last_error" TEXT NULL
);


CREATE TABLE "webhook_receipts" (
    "merchant_id" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "external_id" TEXT NOT NULL,
    "received_at" INTEGER NOT NULL,
    CONSTRAINT "PK_webhook_receipts" PRIMARY KEY ("merchant_id", "provider", "external_id")
);


CREATE TABLE "api_keys" (
    "id" TEXT NOT NULL CONSTRAINT "PK_api_keys" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "scopes" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    "revoked_at" INTEGER NULL,
    CONSTRAINT "FK_api_keys_merchants_merchant_id" FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id") ON DELETE RESTRICT
);


CREATE TABLE "carriers" (
    "id" TEXT NOT NULL CONSTRAINT "PK_carriers" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "adapter" TEXT NOT NULL,
    "services" TEXT NOT NULL,
    "countries" TEXT NOT NULL,
    "transit_days" INTEGER NOT NULL,
    "active" INTEGER NOT NULL,
    "created_at" INTEGER NOT NULL,
    CONSTRAINT "FK_carriers_merchants_merchant_id" FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id") ON DELETE RESTRICT
);


CREATE TABLE "orders" (
    "id" TEXT NOT NULL CONSTRAINT "PK_orders" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "number" TEXT NOT NULL,
    "external_id" TEXT NULL,
    "source" TEXT NOT NULL,
    "placed_at" INTEGER NOT NULL,
    "delivered_at" INTEGER NULL,
    "fulfilled_at" INTEGER NULL,
    "cancelled_at" INTEGER NULL,
    "currency" TEXT NOT NULL,
    "customer_email" TEXT NULL,
    "customer_name" TEXT NULL,
    "customer_phone" TEXT NULL,
    "customer_locale" TEXT NULL,
    "ship_name" TEXT NULL,
    "ship_line1" TEXT NULL,
    "ship_line2" TEXT NULL,
    "ship_city" TEXT NULL,
    "ship_region" TEXT NULL,
    "ship_postal_code" TEXT NULL,
    "ship_country" TEXT NULL,
    "ship_phone" TEXT NULL,
    "shipping_total" TEXT NOT NULL,
    "payment_reference" TEXT NULL,
    "external_updated_at" INTEGER NULL,
    "version" INTEGER NOT NULL,
    "return_count" INTEGER NOT NULL,
    "created_at" INTEGER NOT NULL,
    "updated_at" INTEGER NOT NULL,
    CONSTRAINT "FK_orders_merchants_merchant_id" FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id") ON DELETE RESTRICT
);


CREATE TABLE "policy_versions" (
    "id" TEXT NOT NULL CONSTRAINT "PK_policy_versions" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "document_json" TEXT NOT NULL,
    "effective_from" INTEGER NOT NULL,
    "created_at" INTEGER NOT NULL,
    "created_by" TEXT NOT NULL,
    CONSTRAINT "FK_policy_versions_merchants_merchant_id" FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id") ON DELETE RESTRICT
);


CREATE TABLE "products" (
    "id" TEXT NOT NULL CONSTRAINT "PK_products" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "sku" TEXT NOT NULL,
    "product_code" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "variant_json" TEXT NULL,
    "price" TEXT NOT NULL,
    "final_sale" INTEGER NOT NULL,
    "stock" INTEGER NOT NULL,
    "supplier" TEXT NULL,
    "created_at" INTEGER NOT NULL,
    "updated_at" INTEGER NOT NULL,
    CONSTRAINT "FK_products_merchants_merchant_id" FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id") ON DELETE RESTRICT
);


CREATE TABLE "order_lines" (
    "id" TEXT NOT NULL CONSTRAINT "PK_order_lines" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "order_id" TEXT NOT NULL,
    "line_ref" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "sku" TEXT NULL,
    "product_code" TEXT NULL,
    "title" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "variant_json" TEXT NULL,
    "quantity" INTEGER NOT NULL,
    "unit_price" TEXT NOT NULL,
    "tax" TEXT NOT NULL,
    "discount" TEXT NOT NULL,
    "final_sale" INTEGER NOT NULL,
    "refunded_quantity" INTEGER NOT NULL,
    "returned_quantity" INTEGER NOT NULL,
    CONSTRAINT "FK_order_lines_orders_order_id" FOREIGN KEY ("order_id") REFERENCES "orders" ("id") ON DELETE CASCADE
);


CREATE TABLE "store_refunds" (
    "id" TEXT NOT NULL CONSTRAINT "PK_store_refunds" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "order_id" TEXT NOT NULL,
    "external_id" TEXT NOT NULL,
    "line_ref" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,
    "created_at" INTEGER NOT NULL,
    CONSTRAINT "FK_store_refunds_orders_order_id" FOREIGN KEY ("order_id") REFERENCES "orders" ("id") ON DELETE CASCADE
);


CREATE TABLE "returns" (
    "id" TEXT NOT NULL CONSTRAINT "PK_returns" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "rma" TEXT NOT NULL,
    "order_id" TEXT NOT NULL,
    "order_number" TEXT NOT NULL,
    "customer_email" TEXT NULL,
    "status" TEXT NOT NULL,
    "resolution" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "policy_version_id" TEXT NOT NULL,
    "policy_version" INTEGER NOT NULL,
    "currency" TEXT NOT NULL,
    "estimate_total" TEXT NOT NULL,
    "estimate_json" TEXT NOT NULL,
    "decision_outcome" TEXT NOT NULL,
    "decision_json" TEXT NOT NULL,
    "flags" TEXT NOT NULL,
    "locale" TEXT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    "updated_at" INTEGER NOT NULL,
    "status_changed_at" INTEGER NOT NULL,
    CONSTRAINT "FK_returns_orders_order_id" FOREIGN KEY ("order_id") REFERENCES "orders" ("id") ON DELETE RESTRICT,
    CONSTRAINT "FK_returns_policy_versions_policy_version_id" FOREIGN KEY ("policy_version_id") REFERENCES "policy_versions" ("id") ON DELETE RESTRICT
);


CREATE TABLE "return_lines" (
    "id" TEXT NOT NULL CONSTRAINT "PK_return_lines" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "return_id" TEXT NOT NULL,
    "order_line_id" TEXT NOT NULL,
    "order_line_ref" TEXT NOT NULL,
    "sku" TEXT NULL,
    "title" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,
    "sub_reason" TEXT NULL,
    "comment" TEXT NULL,
    CONSTRAINT "FK_return_lines_order_lines_order_line_id" FOREIGN KEY ("order_line_id") REFERENCES "order_lines" ("id") ON DELETE RESTRICT,
    CONSTRAINT "FK_return_lines_returns_return_id" FOREIGN KEY ("return_id") REFERENCES "returns" ("id") ON DELETE CASCADE
);


CREATE UNIQUE INDEX "IX_api_keys_hash" ON "api_keys" ("hash");


CREATE INDEX "IX_api_keys_merchant_id" ON "api_keys" ("merchant_id");


CREATE INDEX "IX_audit_events_merchant_id_entity_id_occurred_at" ON "audit_events" ("merchant_id", "entity_id", "occurred_at");


CREATE UNIQUE INDEX "IX_carriers_merchant_id_code" ON "carriers" ("merchant_id", "code");


CREATE UNIQUE INDEX "IX_merchants_shopify_domain" ON "merchants" ("shopify_domain");


CREATE UNIQUE INDEX "IX_merchants_slug" ON "merchants" ("slug");


CREATE UNIQUE INDEX "IX_order_lines_order_id_line_ref" ON "order_lines" ("order_id", "line_ref");


CREATE INDEX "IX_orders_merchant_id_customer_email_placed_at" ON "orders" ("merchant_id", "customer_email", "placed_at");


CREATE UNIQUE INDEX "IX_orders_merchant_id_external_id" ON "orders" ("merchant_id", "external_id");


CREATE UNIQUE INDEX "IX_orders_merchant_id_number" ON "orders" ("merchant_id", "number");


CREATE INDEX "IX_orders_merchant_id_updated_at_id" ON "orders" ("merchant_id", "updated_at", "id");


CREATE INDEX "IX_outbox_messages_pending" ON "outbox_messages" ("available_at") WHERE processed_at IS NULL AND dead_at IS NULL;


CREATE INDEX "IX_policy_versions_merchant_id_effective_from" ON "policy_versions" ("merchant_id", "effective_from");


CREATE UNIQUE INDEX "IX_policy_versions_merchant_id_version" ON "policy_versions" ("merchant_id", "version");


CREATE INDEX "IX_products_merchant_id_product_code" ON "products" ("merchant_id", "product_code");


CREATE UNIQUE INDEX "IX_products_merchant_id_sku" ON "products" ("merchant_id", "sku");


CREATE INDEX "IX_return_lines_order_line_id" ON "return_lines" ("order_line_id");


CREATE INDEX "IX_return_lines_return_id" ON "return_lines" ("return_id");


CREATE INDEX "IX_returns_merchant_id_status_updated_at" ON "returns" ("merchant_id", "status", "updated_at");


CREATE INDEX "IX_returns_merchant_id_updated_at_id" ON "returns" ("merchant_id", "updated_at", "id");


CREATE INDEX "IX_returns_order_id" ON "returns" ("order_id");


CREATE INDEX "IX_returns_policy_version_id" ON "returns" ("policy_version_id");


CREATE UNIQUE INDEX "IX_returns_rma" ON "returns" ("rma");


CREATE UNIQUE INDEX "IX_store_refunds_order_id_external_id_line_ref" ON "store_refunds" ("order_id", "external_id", "line_ref");



