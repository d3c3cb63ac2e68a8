"""Repository functions over plain ids and values (never a platform object)."""

from storage.repo.communities import (
    find_chat,
    find_member,
    get_community,
    get_community_by_id,
    get_or_create_community,
    get_or_create_member,
    list_communities,
    list_members,
    set_role,
    update_community,
    upsert_chat,
)
from storage.repo.messages import delete_message, edit_message, get_message, store_message
from storage.repo.pairs import (
    answer_message_ids,
    count_pairs,
    get_pair,
    list_pairs,
    list_review_events,
    pair_for_message,
    record_event,
    review_pair,
    set_golden,
    split_for_hash,
)
from storage.repo.privacy import ForgetReport, forget_member

__all__ = [
    "ForgetReport",
    "answer_message_ids",
    "count_pairs",
    "delete_message",
    "edit_message",
    "find_chat",
    "find_member",
    "forget_member",
    "get_community",
    "get_community_by_id",
    "get_message",
    "get_or_create_community",
    "get_or_create_member",
    "get_pair",
    "list_communities",
    "list_members",
    "list_pairs",
    "list_review_events",
    "pair_for_message",
    "record_event",
    "review_pair",
    "set_golden",
    "set_role",
    "split_for_hash",
    "store_message",
    "update_community",
    "upsert_chat",
]
