-- The outbox worker claims due messages of the gateways it pushes to.
CREATE INDEX outbox_gateway_due ON outbox (gateway, status, next_attempt_at);
