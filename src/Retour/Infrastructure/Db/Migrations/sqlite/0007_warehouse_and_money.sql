-- Schema version 7: warehouse (unmatched parcels, inspections, unit dispositions, supplier batches) and money
-- (refunds with their per-line claims, gift cards and the store-credit ledger, exchange orders, the sandbox payment
-- provider's own ledger); product cost, the merchant's warehouse rules and payment sandbox, and receipt on returns.
-- Written from the EF model; SchemaTests prove a migrated database matches the model.

ALTER TABLE "merchants" ADD COLUMN "warehouse_rules_json" TEXT NULL;

ALTER TABLE "merchants" ADD COLUMN "payment_sandbox_json" TEXT NULL;

ALTER TABLE "products" ADD COLUMN "cost" TEXT NULL;

ALTER TABLE "returns" ADD COLUMN "received_at" INTEGER NULL;

ALTER TABLE "returns" ADD COLUMN "warehouse_code" TEXT NULL;

CREATE TABLE "gift_cards" (
    "id" TEXT NOT NULL CONSTRAINT "PK_gift_cards" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "customer_email" TEXT NOT NULL,
    "currency" TEXT NOT NULL,
    "initial_amount" TEXT NOT NULL,
    "balance" TEXT NOT NULL,
    "expires_at" INTEGER NULL,
    "refund_id" TEXT NULL,
    "created_at" INTEGER NOT NULL,
    "updated_at" INTEGER NOT NULL,
    CONSTRAINT "FK_gift_cards_merchants_merchant_id" FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id") ON DELETE RESTRICT
);

CREATE TABLE "rtv_batches" (
    "id" TEXT NOT NULL CONSTRAINT "PK_rtv_batches" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "supplier_code" TEXT NOT NULL,
    "supplier_name" TEXT NOT NULL,
    "warehouse_code" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "claim_deadline" INTEGER NOT NULL,
    "units" INTEGER NOT NULL,
    "value" TEXT NOT NULL,
    "currency" TEXT NOT NULL,
    "shipped_by" TEXT NULL,
    "shipped_at" INTEGER NULL,
    "created_at" INTEGER NOT NULL,
    "updated_at" INTEGER NOT NULL,
    CONSTRAINT "FK_rtv_batches_merchants_merchant_id" FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id") ON DELETE RESTRICT
);

CREATE TABLE "sandbox_payments" (
    "id" TEXT NOT NULL CONSTRAINT "PK_sandbox_payments" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "reference" TEXT NOT NULL,
    "payment_reference" TEXT NULL,
    "amount" TEXT NOT NULL,
    "currency" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    CONSTRAINT "FK_sandbox_payments_merchants_merchant_id" FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id") ON DELETE RESTRICT
);

CREATE TABLE "unmatched_parcels" (
    "id" TEXT NOT NULL CONSTRAINT "PK_unmatched_parcels" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "warehouse_code" TEXT NOT NULL,
    "received_by" TEXT NULL,
    "received_at" INTEGER NOT NULL,
    "scans" INTEGER NOT NULL,
    "notes" TEXT NULL,
    "matched_return_id" TEXT NULL,
    "matched_rma" TEXT NULL,
    "matched_by" TEXT NULL,
    "matched_at" INTEGER NULL,
    "updated_at" INTEGER NOT NULL,
    CONSTRAINT "FK_unmatched_parcels_merchants_merchant_id" FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id") ON DELETE RESTRICT
);

CREATE TABLE "store_credit_entries" (
    "id" TEXT NOT NULL CONSTRAINT "PK_store_credit_entries" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "customer_email" TEXT NOT NULL,
    "gift_card_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "amount" TEXT NOT NULL,
    "currency" TEXT NOT NULL,
    "refund_id" TEXT NULL,
    "reference" TEXT NULL,
    "balance_after" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    CONSTRAINT "FK_store_credit_entries_gift_cards_gift_card_id" FOREIGN KEY ("gift_card_id") REFERENCES "gift_cards" ("id") ON DELETE RESTRICT
);

CREATE TABLE "refunds" (
    "id" TEXT NOT NULL CONSTRAINT "PK_refunds" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "return_id" TEXT NOT NULL,
    "rma" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    "amount" TEXT NOT NULL,
    "currency" TEXT NOT NULL,
    "breakdown_json" TEXT NOT NULL,
    "provider_key" TEXT NOT NULL,
    "payment_reference" TEXT NULL,
    "provider_reference" TEXT NULL,
    "gift_card_code" TEXT NULL,
    "attempts" INTEGER NOT NULL,
    "next_attempt_at" INTEGER NULL,
    "last_error" TEXT NULL,
    "needs_attention" INTEGER NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    "issued_at" INTEGER NULL,
    "updated_at" INTEGER NOT NULL,
    CONSTRAINT "FK_refunds_returns_return_id" FOREIGN KEY ("return_id") REFERENCES "returns" ("id") ON DELETE RESTRICT
);

CREATE TABLE "exchange_orders" (
    "id" TEXT NOT NULL CONSTRAINT "PK_exchange_orders" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "return_id" TEXT NOT NULL,
    "refund_id" TEXT NOT NULL,
    "number" TEXT NOT NULL,
    "original_order_number" TEXT NOT NULL,
    "lines_json" TEXT NOT NULL,
    "new_total" TEXT NOT NULL,
    "returned_value" TEXT NOT NULL,
    "difference" TEXT NOT NULL,
    "amount_due" TEXT NOT NULL,
    "currency" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    CONSTRAINT "FK_exchange_orders_refunds_refund_id" FOREIGN KEY ("refund_id") REFERENCES "refunds" ("id") ON DELETE RESTRICT,
    CONSTRAINT "FK_exchange_orders_returns_return_id" FOREIGN KEY ("return_id") REFERENCES "returns" ("id") ON DELETE RESTRICT
);

CREATE TABLE "inspections" (
    "id" TEXT NOT NULL CONSTRAINT "PK_inspections" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "return_id" TEXT NOT NULL,
    "return_line_id" TEXT NOT NULL,
    "order_line_ref" TEXT NOT NULL,
    "unit" INTEGER NOT NULL,
    "grade" TEXT NOT NULL,
    "checklist_json" TEXT NOT NULL,
    "notes" TEXT NULL,
    "inspected_by" TEXT NULL,
    "inspected_at" INTEGER NOT NULL,
    CONSTRAINT "FK_inspections_return_lines_return_line_id" FOREIGN KEY ("return_line_id") REFERENCES "return_lines" ("id") ON DELETE RESTRICT,
    CONSTRAINT "FK_inspections_returns_return_id" FOREIGN KEY ("return_id") REFERENCES "returns" ("id") ON DELETE RESTRICT
);

CREATE TABLE "refund_claims" (
    "id" TEXT NOT NULL CONSTRAINT "PK_refund_claims" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "refund_id" TEXT NOT NULL,
    "return_line_id" TEXT NOT NULL,
    CONSTRAINT "FK_refund_claims_refunds_refund_id" FOREIGN KEY ("refund_id") REFERENCES "refunds" ("id") ON DELETE CASCADE,
    CONSTRAINT "FK_refund_claims_return_lines_return_line_id" FOREIGN KEY ("return_line_id") REFERENCES "return_lines" ("id") ON DELETE RESTRICT
);

CREATE TABLE "unit_dispositions" (
    "id" TEXT NOT NULL CONSTRAINT "PK_unit_dispositions" PRIMARY KEY,
    "merchant_id" TEXT NOT NULL,
    "return_id" TEXT NOT NULL,
    "inspection_id" TEXT NOT NULL,
    "order_line_ref" TEXT NOT NULL,
    "unit" INTEGER NOT NULL,
    "sku" TEXT NULL,
    "category" TEXT NOT NULL,
    "grade" TEXT NOT NULL,
    "proposed" TEXT NOT NULL,
    "proposed_channel" TEXT NOT NULL,
    "explanation" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "final" TEXT NULL,
    "channel" TEXT NULL,
    "override_reason" TEXT NULL,
    "value" TEXT NOT NULL,
    "expected_recovery" TEXT NULL,
    "currency" TEXT NOT NULL,
    "supplier" TEXT NULL,
    "rtv_batch_id" TEXT NULL,
    "warehouse_code" TEXT NOT NULL,
    "confirmed_by" TEXT NULL,
    "confirmed_at" INTEGER NULL,
    "created_at" INTEGER NOT NULL,
    "updated_at" INTEGER NOT NULL,
    CONSTRAINT "FK_unit_dispositions_inspections_inspection_id" FOREIGN KEY ("inspection_id") REFERENCES "inspections" ("id") ON DELETE RESTRICT,
    CONSTRAINT "FK_unit_dispositions_returns_return_id" FOREIGN KEY ("return_id") REFERENCES "returns" ("id") ON DELETE RESTRICT
);

CREATE INDEX "IX_exchange_orders_refund_id" ON "exchange_orders" ("refund_id");

CREATE UNIQUE INDEX "IX_exchange_orders_return_id" ON "exchange_orders" ("return_id");

CREATE UNIQUE INDEX "IX_gift_cards_merchant_id_code" ON "gift_cards" ("merchant_id", "code");

CREATE INDEX "IX_gift_cards_merchant_id_customer_email" ON "gift_cards" ("merchant_id", "customer_email");

CREATE UNIQUE INDEX "IX_gift_cards_refund_id" ON "gift_cards" ("refund_id");

CREATE INDEX "IX_inspections_return_id" ON "inspections" ("return_id");

CREATE UNIQUE INDEX "IX_inspections_return_line_id_unit" ON "inspections" ("return_line_id", "unit");

CREATE INDEX "IX_refund_claims_refund_id" ON "refund_claims" ("refund_id");

CREATE UNIQUE INDEX "IX_refund_claims_return_line_id" ON "refund_claims" ("return_line_id");

CREATE INDEX "IX_refunds_merchant_id_status_created_at" ON "refunds" ("merchant_id", "status", "created_at");

CREATE UNIQUE INDEX "IX_refunds_provider_key" ON "refunds" ("provider_key");

CREATE INDEX "IX_refunds_return_id" ON "refunds" ("return_id");

CREATE INDEX "IX_refunds_status_next_attempt_at" ON "refunds" ("status", "next_attempt_at");

CREATE INDEX "IX_rtv_batches_merchant_id_state_claim_deadline" ON "rtv_batches" ("merchant_id", "state", "claim_deadline");

CREATE UNIQUE INDEX "IX_rtv_batches_merchant_id_supplier_code_warehouse_code" ON "rtv_batches" ("merchant_id", "supplier_code", "warehouse_code") WHERE state = 'open';

CREATE UNIQUE INDEX "IX_sandbox_payments_merchant_id_idempotency_key" ON "sandbox_payments" ("merchant_id", "idempotency_key");

CREATE INDEX "IX_store_credit_entries_gift_card_id" ON "store_credit_entries" ("gift_card_id");

CREATE INDEX "IX_store_credit_entries_merchant_id_customer_email_created_at" ON "store_credit_entries" ("merchant_id", "customer_email", "created_at");

CREATE UNIQUE INDEX "IX_unit_dispositions_inspection_id" ON "unit_dispositions" ("inspection_id");

CREATE INDEX "IX_unit_dispositions_merchant_id_state_confirmed_at" ON "unit_dispositions" ("merchant_id", "state", "confirmed_at");

CREATE INDEX "IX_unit_dispositions_return_id" ON "unit_dispositions" ("return_id");

CREATE UNIQUE INDEX "IX_unmatched_parcels_merchant_id_code" ON "unmatched_parcels" ("merchant_id", "code");

CREATE INDEX "IX_unmatched_parcels_merchant_id_matched_at_received_at" ON "unmatched_parcels" ("merchant_id", "matched_at", "received_at");
