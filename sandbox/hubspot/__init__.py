"""HubSpot emulator: OAuth, CRM v3 objects, properties, associations v4, timeline, actions, webhooks."""
