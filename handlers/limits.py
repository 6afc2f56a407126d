"""How much citizen input the desk takes at once; intake and fallback answers share these."""

from __future__ import annotations

# Telegram itself allows 4,096 characters; a round figure leaves room and is easy to state.
TEXT_LIMIT = 4000
# Unknown commands are echoed back; anything longer is cut so the echo stays one short line.
COMMAND_ECHO_LIMIT = 64
# A request's description and address, in every channel (chat, Open311, phone intake).
DESCRIPTION_MIN, DESCRIPTION_MAX = 10, 3000
ADDRESS_MIN, ADDRESS_MAX = 3, 300
