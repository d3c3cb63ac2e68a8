"""Synthetic bilingual Q&A builders for the trainer tests (topics × paraphrased questions)."""

from __future__ import annotations

import random
from typing import Any

__all__ = ["SYSTEM", "TOPICS", "all_texts", "example", "qa_split", "shuffled_answers"]

SYSTEM = "You answer questions of the FanFund community."

# topic → (English answer, Chinese answer, English questions, Chinese questions)
TOPICS: dict[str, tuple[str, str, list[str], list[str]]] = {
    "fee": (
        "The management fee is 1.5% per year, charged monthly.",
        "管理费是每年百分之一点五，按月收取。",
        [
            "What is the management fee?",
            "How much is the yearly fee?",
            "What fee do you charge per year?",
            "How high is the management fee?",
            "Is there an annual management fee?",
        ],
        [
            "管理费是多少？",
            "每年收多少管理费？",
            "年费是多少钱？",
            "你们的管理费怎么收？",
            "管理费高吗？",
        ],
    ),
    "redeem": (
        "Open the app, choose Redeem, and the money arrives in two working days.",
        "打开应用点击赎回，资金两个工作日到账。",
        [
            "How do I redeem my shares?",
            "How can I sell my fund shares?",
            "Where do I redeem in the app?",
            "How long does a redemption take?",
            "I want to redeem, what do I do?",
        ],
        [
            "怎么赎回基金？",
            "如何卖出我的份额？",
            "赎回要多久到账？",
            "在哪里赎回？",
            "我想赎回怎么办？",
        ],
    ),
    "password": (
        "Tap Forgot password on the login page and follow the SMS code.",
        "在登录页点忘记密码，按短信验证码重置。",
        [
            "How do I reset my password?",
            "I forgot my password, help?",
            "How can I change my login password?",
            "Where is the password reset?",
            "My password does not work, what now?",
        ],
        [
            "怎么重置密码？",
            "忘记密码了怎么办？",
            "如何修改登录密码？",
            "密码在哪里重置？",
            "密码不对怎么办？",
        ],
    ),
    "dividend": (
        "Dividends are paid every June into your cash account.",
        "分红每年六月发放到现金账户。",
        [
            "When are dividends paid?",
            "When do I get the dividend?",
            "How are dividends paid out?",
            "Which month is the dividend paid?",
            "Do you pay dividends every year?",
        ],
        ["什么时候分红？", "分红几月发？", "分红怎么发放？", "每年都分红吗？", "分红发到哪里？"],
    ),
    "minimum": (
        "The minimum investment is 100 dollars, then any amount.",
        "最低投资一百元，之后金额不限。",
        [
            "What is the minimum investment?",
            "How much do I need to start investing?",
            "Is there a minimum amount to invest?",
            "What is the smallest amount I can buy?",
            "Can I start with a small amount?",
        ],
        [
            "最低投资多少？",
            "起投金额是多少？",
            "最少买多少钱？",
            "有最低金额吗？",
            "小额可以投资吗？",
        ],
    ),
    "support": (
        "Write to support@fanfund.example or call 400 800 1234 on weekdays.",
        "工作日请发邮件到客服邮箱或拨打四零零热线。",
        [
            "How do I contact support?",
            "What is the customer service phone number?",
            "How can I reach the support team?",
            "Where can I get help from a person?",
            "Is there a hotline I can call?",
        ],
        [
            "怎么联系客服？",
            "客服电话是多少？",
            "如何找到人工客服？",
            "有热线电话吗？",
            "哪里可以咨询？",
        ],
    ),
}


def example(question: str, answer: str) -> dict[str, Any]:
    """One OpenAI chat fine-tuning example."""
    return {
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
    }


def qa_split(holdout_per_language: int = 1) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(train, holdout): the last paraphrases of every topic and language are held out."""
    train, holdout = [], []
    for en_answer, zh_answer, en_questions, zh_questions in TOPICS.values():
        for questions, answer in ((en_questions, en_answer), (zh_questions, zh_answer)):
            cut = len(questions) - holdout_per_language
            train += [example(q, answer) for q in questions[:cut]]
            holdout += [example(q, answer) for q in questions[cut:]]
    return train, holdout


def shuffled_answers(examples: list[dict[str, Any]], seed: int = 0) -> list[dict[str, Any]]:
    """The same questions with the answers permuted so that no question keeps its own answer."""
    rng = random.Random(seed)
    original = [e["messages"][-1]["content"] for e in examples]
    answers = list(original)
    while any(a == b for a, b in zip(answers, original, strict=True)):
        rng.shuffle(answers)
    return [example(e["messages"][1]["content"], a) for e, a in zip(examples, answers, strict=True)]


def all_texts() -> list[str]:
    """Every question and answer, for training the tiny model's tokenizer."""
    texts = [SYSTEM]
    for en_answer, zh_answer, en_questions, zh_questions in TOPICS.values():
        texts += [en_answer, zh_answer, *en_questions, *zh_questions]
    return texts
