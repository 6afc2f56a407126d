"""The words every surface shares: the bot, the dashboard, the command line and Open311.

Pure functions of a Translator and plain values (stored codes, views from storage) to text; no
Telegram here, so they stay true with another messenger. By theme:

- cases: names of statuses, kinds and events, the citizen's card and the staff card;
- timeline: what staff read of a case's audit trail and routing;
- refusals: why a staff action did not happen, in one line;
- ratings: the labels of a citizen's rating;
- reports: the /stats summary and the weekly digest;
- charts, chart_drawing: the report's charts as PNGs.
"""
