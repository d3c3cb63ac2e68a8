"""The columns of the reply feature rows: names, blocks, bins (see harvest.reply_features).

A row is ``self`` (1 on row 0 only: the message starts something new), the pair block
(this candidate and the message; 0 on row 0), the query block (the message alone, the
same on every row) and ``self_x_`` the query block (row 0 only, so a linear part can use
the message's own features to decide "new").
"""

from __future__ import annotations

from typing import Final

import numpy as np

from harvest.reply_text import TEXT_FEATURES

__all__ = ["FEATURES", "PAIR_COLUMNS", "PAIR_FEATURES", "QUERY_COLUMNS", "QUERY_FEATURES"]

DIST_BINS: Final = (1, 2, 3, 5, 10, 20, 40)  # distance bins: d <= bound; else "far"
GAP_BINS: Final = (0.0, 60.0, 300.0, 1800.0)  # time-gap bins (seconds): gap <= bound; else "long"
DIST_BOUNDS: Final = np.array(DIST_BINS, dtype=np.int64)
GAP_BOUNDS: Final = np.array(GAP_BINS, dtype=np.float64)
PREV_BOUNDS: Final = np.array((1, 3, 10), dtype=np.int64)
PREV_BINS: Final = (1, 3, 10, 30)  # the author's previous message, messages back
RULE_REASONS: Final = ("addressed", "called", "continuation", "question")
N_TEXT: Final = len(TEXT_FEATURES)
TEXT_COMMAND: Final = TEXT_FEATURES.index("command")
TEXT_BOT: Final = TEXT_FEATURES.index("bot")
QUERY_FEATURES: tuple[str, ...] = (
    *(f"q_{t}" for t in TEXT_FEATURES),
    "q_author_new",
    *(f"q_prev_le_{b}" for b in PREV_BINS),
    "q_prev_far",
    "q_prev_gap_le_60s",
    "q_prev_gap_le_5m",
    "q_named_recently",
    "q_named_by_last",
    "q_rule_none",
    "q_log_rate",
    "q_prev_was_start",
    "q_prev_named_someone",
)
PAIR_FEATURES: tuple[str, ...] = (
    *(f"dist_le_{b}" for b in DIST_BINS),
    "dist_far",
    "dist_scaled",
    *(f"gap_le_{int(b)}" for b in GAP_BINS),
    "gap_long",
    "log_gap_minutes",
    "same_author",
    "q_names_c",
    "q_leads_c",
    "c_names_q",
    "c_leads_q",
    "q_names_other",
    "c_names_other",
    "same_addressee",
    "c_latest_of_author",
    "q_silent_since",
    "c_is_q_prev",
    "c_latest_naming_q",
    "q_named_c_before",
    "c_named_q_before",
    "q_named_c_between",
    "c_named_q_between",
    "log_turns_between",
    "log_authors_between",
    "shared_0",
    "shared_1",
    "shared_2plus",
    "shared_5plus",
    "shared_frac_c",
    "shared_frac_q",
    "idf_overlap",
    "cosine",
    "stem_shared_1",
    "stem_shared_2plus",
    "stem_frac_q",
    "gram_jaccard",
    "gram_dup",
    "c_replied_to_q",
    "c_latest_reply_to_q",
    "q_replied_to_c",
    "c_is_partner",
    "c_partner_latest",
    "c_was_start",
    "c_parent_is_q_prev_parent",
    "c_latest_in_thread",
    "c_thread_has_q",
    "c_thread_started_by_q",
    "c_thread_of_q_prev",
    "log_thread_size",
    "c_has_reply",
    "c_replied_by_q",
    "log_c_replies",
    *(f"rule_{r}" for r in RULE_REASONS),
    "c_is_command_q_bot",
    "c_prev_le_1",
    "c_prev_le_3",
    "c_prev_le_10",
    "c_prev_far",
    "c_next_same_author",
    "c_prev_same_author",
    *(f"c_{t}" for t in TEXT_FEATURES),
)
FEATURES: tuple[str, ...] = (
    "self",
    *PAIR_FEATURES,
    *QUERY_FEATURES,
    *(f"self_x_{name}" for name in QUERY_FEATURES),
)
N_FEATURES: Final = len(FEATURES)
I_PAIR: Final = 1
I_QUERY: Final = I_PAIR + len(PAIR_FEATURES)
N_QUERY: Final = len(QUERY_FEATURES)
I_SELF_QUERY: Final = I_QUERY + N_QUERY
# The row layout: column 0 "self" (1 on row 0 only), the pair block (0 on row 0), the
# query block (the same on every row), the self × query block (row 0 only).
PAIR_COLUMNS: Final = slice(I_PAIR, I_QUERY)
QUERY_COLUMNS: Final = slice(I_QUERY, I_SELF_QUERY)
SELF_QUERY_COLUMNS: Final = slice(I_SELF_QUERY, N_FEATURES)


def column_of(name: str) -> int:
    return I_PAIR + PAIR_FEATURES.index(name)


C_DIST: Final = column_of("dist_le_1")  # then the other bins and "dist_far", in order
C_GAP: Final = column_of("gap_le_0")  # then the other bins and "gap_long"
C_PREV: Final = column_of("c_prev_le_1")  # le_1, le_3, le_10, far
C_SHARED: Final = column_of("shared_0")  # 0, 1, 2plus, 5plus
C_TEXT: Final = column_of(f"c_{TEXT_FEATURES[0]}")
C_RULE: Final = {r: column_of(f"rule_{r}") for r in RULE_REASONS}
QUERY_COL: Final = {name: i for i, name in enumerate(QUERY_FEATURES)}
# Columns filled from one vector each, in rows(): name → column.
PAIR_COL: Final = {name: column_of(name) for name in PAIR_FEATURES}
