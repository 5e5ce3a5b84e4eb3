-- Revenue per day and currency, cancelled orders excluded.
SELECT
  order_date,
  currency,
  count(*)                  AS orders,
  sum(item_count)           AS items,
  sum(total)                AS revenue
FROM orders_clean
WHERE status <> 'cancelled'
GROUP BY ALL
ORDER BY order_date, currency
