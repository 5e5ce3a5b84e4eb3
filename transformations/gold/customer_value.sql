-- Lifetime value per person: orders of every customer record of the same entity count together.
SELECT
  p.entity_id,
  p.first_name,
  p.last_name,
  p.city,
  p.entity_records                       AS customer_records,
  count(o.order_id)                      AS orders,
  coalesce(sum(o.total), 0)              AS lifetime_value,
  max(o.ordered_at)                      AS last_order_at
FROM people AS p
JOIN people__entities AS e ON e.entity_id = p.entity_id
LEFT JOIN orders_clean AS o ON o.customer_id = e.id AND o.status <> 'cancelled'
GROUP BY ALL
