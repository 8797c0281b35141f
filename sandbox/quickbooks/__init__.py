"""QuickBooks Online emulator: OAuth with rotation, entities with QBO's rules, query, batch, CDC, webhooks."""
