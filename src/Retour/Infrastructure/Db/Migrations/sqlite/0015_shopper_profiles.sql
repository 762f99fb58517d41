-- Schema version 15: shopper profiles. Each shopper's lifetime returns, units graded used, last return and history (each
-- return's time and used units), kept exact by the analytics worker, let the serial-returners insight count only the
-- shoppers who can meet its thresholds instead of grouping a period's returns by shopper. Filled here from the returns
-- as ShopperProfiles.RebuildSql does (with the last return's time as updated_at). Used units are now those of the
-- shopper's returns made in the period, so the partial index on units graded used over a period goes.
CREATE TABLE "analytics_shoppers" (
    "merchant_id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "returns" INTEGER NOT NULL,
    "used_units" INTEGER NOT NULL,
    "last_return_at" INTEGER NOT NULL,
    "history" TEXT NULL,
    "updated_at" INTEGER NOT NULL,
    CONSTRAINT "PK_analytics_shoppers" PRIMARY KEY ("merchant_id", "email")
);

CREATE INDEX "IX_analytics_shoppers_merchant_id_returns_last_return_at" ON "analytics_shoppers" ("merchant_id", "returns", "last_return_at");

CREATE INDEX "IX_analytics_shoppers_merchant_id_used_units_last_return_at" ON "analytics_shoppers" ("merchant_id", "used_units", "last_return_at");

INSERT INTO analytics_shoppers (merchant_id, email, returns, used_units, last_return_at, history, updated_at)
SELECT r.merchant_id, r.customer_email, count(*), coalesce(sum(u.n), 0), max(r.created_at),
    CASE WHEN count(*) <= 1000 THEN group_concat(CAST(r.created_at / 1000000 AS TEXT) || CASE WHEN coalesce(u.n, 0) > 0 THEN ':' || u.n ELSE '' END, ' ') END, max(r.created_at)
FROM returns r
LEFT JOIN (SELECT return_id, count(*) AS n FROM inspections WHERE grade = 'used' GROUP BY return_id) u ON u.return_id = r.id
WHERE r.customer_email IS NOT NULL
GROUP BY r.merchant_id, r.customer_email
ON CONFLICT (merchant_id, email) DO NOTHING;

-- Last: dropping an index locks its table until the commit, so not for the whole fill.
DROP INDEX "IX_inspections_used";
