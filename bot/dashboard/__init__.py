"""The staff dashboard under /web/: the same desk as the bot's staff commands, in a browser.

Staff sign in with a one-time link the bot sends on /web; see bot.dashboard.session for the
cookie and CSRF rules, bot.dashboard.views for the pages, bot.dashboard.app for the wiring.
"""
