"""The painting service: a Ray Serve application (painter replicas behind an HTTP ingress).

Importing this package imports nothing from Ray: `bot.service.client` (used by the bot) and
`bot.service.errors`/`form`/`order` stay Ray-free; only `app`, `ingress` and `painter` import it.
"""
