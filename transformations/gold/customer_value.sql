-- Lifetime value per customer record.
SELECT
  c.id                                   AS customer_id,
  c.first_name,
  c.last_name,
  c.city,
  count(o.order_id)                      AS orders,
  coalesce(sum(o.total), 0)              AS lifetime_value,
  max(o.ordered_at)                      AS last_order_at
FROM customers AS c
LEFT JOIN orders_clean AS o ON o.customer_id = c.id AND o.status <> 'cancelled'
GROUP BY ALL
