"""The painting service: two Ray Serve applications (painter replicas at /v1/stylize, a front at /).

Importing this package imports nothing from Ray: `bot.service.client` (used by the bot) and
`bot.service.errors`/`form`/`order`/`answers`/`stream`/`proxy` stay Ray-free; only `app`,
`ingress` and `painter` import it.
"""
