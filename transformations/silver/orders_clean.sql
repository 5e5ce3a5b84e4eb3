-- One row per order, current state, with its lines summarised and amounts conformed.
SELECT
  o.id                                  AS order_id,
  o.customer_id,
  o.status,
  o.ordered_at,
  CAST(o.ordered_at AS DATE)            AS order_date,
  o.updated_at,
  trim(o.currency)                      AS currency,
  o.total,
  count(l.line_no)                      AS line_count,
  coalesce(sum(l.quantity), 0)          AS item_count,
  min(l.quantity)                       AS min_quantity
FROM orders AS o
LEFT JOIN order_lines AS l ON l.order_id = o.id
GROUP BY ALL
