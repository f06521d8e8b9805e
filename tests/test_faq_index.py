"""FAQ matching: normalisation, paraphrase retrieval in Chinese and English, confidence."""

from __future__ import annotations

import numpy as np
import pytest

from bots.nlp.faq_index import ANSWER_THRESHOLD, SUGGEST_THRESHOLD, FaqDoc, FaqHit, FaqIndex
from bots.nlp.language import detect_language, to_traditional
from bots.nlp.normalize import normalize, tokenize

DOCS = [
    FaqDoc("refund", ["How do I get a refund?", "I want my money back", "怎么申请退款", "退款多久到账"]),
    FaqDoc("track", ["Where is my order?", "How can I track my parcel?", "我的快递到哪里了", "查一下物流"]),
    FaqDoc("cancel", ["Cancel my order", "I want to cancel the purchase", "我要取消订单", "订单怎么取消"]),
    FaqDoc("invoice", ["Can I get an invoice?", "I need a receipt for my purchase", "怎么开发票", "可以开发票吗"]),
    FaqDoc("password", ["I forgot my password", "How do I reset my password?", "忘记密码了怎么办", "怎么修改登录密码"]),
]


@pytest.fixture(scope="module")
def index() -> FaqIndex:
    return FaqIndex.build(DOCS)


def test_normalize_full_width_and_traditional() -> None:
    assert normalize("ＡＢＣ　１２３") == "abc 123"
    assert normalize("我的訂單怎麼還沒發貨") == "我的订单怎么还没发货"
    assert normalize("  Hello \t WORLD \n") == "hello world"
    assert normalize("滑鼠的軟體") == "鼠标的软件"  # Taiwan wording meets the shop's mainland texts


def test_only_traditional_characters_make_a_writer_traditional() -> None:
    assert detect_language("我的訂單").traditional
    assert not detect_language("滑鼠坏了").traditional  # a Taiwan word in Simplified characters
    assert to_traditional("我们为您安排退款") == "我們為您安排退款"


def test_tokenize_mixes_jieba_and_latin_words() -> None:
    assert tokenize(normalize("退款要多久 refund please")) == ["退款", "要", "多久", "refund", "please"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("my package hasn't arrived, where is it?", "track"),
        ("please give me my money back", "refund"),
        ("I'd like to call off my order", "cancel"),
        ("包裹现在在哪", "track"),
        ("钱什么时候退回来", "refund"),
        ("密码想不起来了", "password"),
    ],
)
def test_paraphrase_finds_its_entry(index: FaqIndex, query: str, expected: str) -> None:
    hits = index.search(query)
    assert hits[0].id == expected
    assert hits[0].confidence >= SUGGEST_THRESHOLD


def test_traditional_query_finds_simplified_entry(index: FaqIndex) -> None:
    hits = index.search("訂單怎麼取消")
    assert hits[0].id == "cancel"
    assert hits[0].confidence >= ANSWER_THRESHOLD


def test_unrelated_question_gets_low_confidence(index: FaqIndex) -> None:
    for query in ("What is the capital of France?", "今天天气怎么样"):
        assert index.search(query)[0].confidence < ANSWER_THRESHOLD


def test_hits_are_ranked_and_bounded(index: FaqIndex) -> None:
    hits = index.search("where is my order", k=3)
    assert len(hits) == 3
    assert all(isinstance(h, FaqHit) and 0.0 <= h.confidence <= 1.0 for h in hits)
    assert [h.confidence for h in hits] == sorted((h.confidence for h in hits), reverse=True)
    assert index.search("   ") == []


def test_single_question_entries_work_as_retrieval() -> None:
    index = FaqIndex.build([FaqDoc(str(i), [q]) for i, q in enumerate(["运费谁出", "支持货到付款吗", "What are your opening hours?"])])
    assert index.search("可以货到付款么")[0].id == "1"
    assert index.search("when are you open")[0].id == "2"


def test_the_per_message_lexical_row_equals_scikit_learns() -> None:
    from bots.nlp.faq_index import _Lexical

    lexical = _Lexical([normalize(q) for doc in DOCS for q in doc.questions])
    for text in ("耳机连不上蓝牙 蓝牙", "How do I PAIR the earbuds?", "完全无关 zzz", ""):
        reference = lexical.transform([normalize(text)]).toarray()[0]
        columns, values = lexical.terms(normalize(text))
        fast = np.zeros_like(reference)
        np.add.at(fast, columns, values)
        assert np.allclose(fast, reference, atol=1e-6), text


def test_an_english_question_still_finds_an_entry_written_only_in_chinese() -> None:
    index = FaqIndex.build([
        FaqDoc("pair", ["耳机怎么和手机蓝牙配对", "蓝牙耳机配对方法"]),
        FaqDoc("refund", ["how long does a refund take", "when do I get my money back"]),
        FaqDoc("hours", ["what are your opening hours", "when is customer service available"]),
    ])
    [top, *_] = index.search("how do I pair the earbuds with my phone over bluetooth")
    assert top.id == "pair"
