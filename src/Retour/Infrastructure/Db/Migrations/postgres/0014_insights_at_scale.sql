-- Schema version 14: analytics insights at scale. The queue's newest-first order and per-shopper reads over a period use
-- returns (merchant, created_at, email) and (merchant, email, created_at); units graded used and return-to-vendor value over a period read partial indexes
-- holding only those rows. Comments are now classified into the facts (the "said" cells): returns with a comment are
-- queued so an upgraded database gains them in the background.
CREATE INDEX "IX_inspections_used" ON inspections (merchant_id, inspected_at) WHERE grade = 'used';

CREATE INDEX "IX_returns_merchant_id_created_at_customer_email" ON returns (merchant_id, created_at, customer_email);

CREATE INDEX "IX_returns_merchant_id_customer_email_created_at" ON returns (merchant_id, customer_email, created_at);

CREATE INDEX "IX_unit_dispositions_rtv" ON unit_dispositions (merchant_id, confirmed_at) WHERE final = 'return_to_vendor' AND state = 'confirmed';

INSERT INTO analytics_pending (entity_id, merchant_id, kind, available_at, version)
SELECT r.id, r.merchant_id, 'return', '1970-01-01T00:00:00Z', 0 FROM returns r
WHERE EXISTS (SELECT 1 FROM return_lines l WHERE l.return_id = r.id AND l.comment IS NOT NULL AND l.comment <> '')
ON CONFLICT (entity_id) DO NOTHING;
