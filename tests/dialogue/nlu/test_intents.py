"""The rule book of spec/intents.md, one readable case per rule, plus ASR noise and script intents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callbot.dialogue.nlu import BUILTIN_INTENTS, IntentDefinition, IntentRecognizer, Recognition, build_recognizer

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def nlu() -> IntentRecognizer:
    return build_recognizer()


def intent(nlu: IntentRecognizer, text: str, context: str | None = None) -> str:
    return nlu.recognize(text, context).intent


def test_builtin_table_is_the_spec_table() -> None:
    spec = ROOT / "docs" / "intents.md"
    assert len(BUILTIN_INTENTS) == 22
    assert BUILTIN_INTENTS["unknown"] == "未识别"
    assert BUILTIN_INTENTS["call_later"] == "稍后联系"
    if spec is not None and spec.exists():
        table = spec.read_text(encoding="utf-8")
        for intent_id, name in BUILTIN_INTENTS.items():
            assert f"| `{intent_id}` | {name} |" in table


def test_intent_ids_are_the_builtins_plus_the_scripts(nlu: IntentRecognizer) -> None:
    assert nlu.intent_ids == frozenset(BUILTIN_INTENTS)
    extended = build_recognizer([IntentDefinition("ask_rate", "问利率", ("利率",))])
    assert extended.intent_ids == frozenset(BUILTIN_INTENTS) | {"ask_rate"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("是的", "affirm"),
        ("好的你说", "affirm"),
        ("可以啊", "affirm"),
        ("嗯嗯对", "affirm"),
        ("不是", "deny"),
        ("没有啊", "deny"),
        ("不对", "deny"),
        ("不需要", "reject"),
        ("不感兴趣谢谢", "reject"),
        ("不用了", "reject"),
        ("我在开车", "busy"),
        ("正在开会呢", "busy"),
        ("现在不方便", "busy"),
        ("你晚点再打", "call_later"),
        ("明天下午再打给我", "call_later"),
        ("多少钱", "ask_price"),
        ("收费吗", "ask_price"),
        ("利息怎么算", "ask_price"),
        ("你是谁啊", "ask_identity"),
        ("你们哪个公司的", "ask_identity"),
        ("你怎么有我电话", "ask_source"),
        ("我的号码哪来的", "ask_source"),
        ("你是机器人吧", "is_robot"),
        ("是真人吗", "is_robot"),
        ("你说什么", "repeat"),
        ("听不清楚", "repeat"),
        ("再说一遍", "repeat"),
        ("再打我就投诉", "complaint"),
        ("骚扰电话", "complaint"),
        ("把我号码删了", "complaint"),
        ("神经病", "abuse"),
        ("滚", "abuse"),
        ("我已经买了", "already_have"),
        ("早就办过了", "already_have"),
        ("我考虑考虑", "consider"),
        ("再看看吧", "consider"),
        ("发短信给我", "send_info"),
        ("加我微信吧", "send_info"),
        ("具体是什么活动", "ask_detail"),
        ("怎么办理", "ask_detail"),
        ("你们在哪里", "ask_address"),
        ("地址在哪", "ask_address"),
        ("你打错了", "wrong_person"),
        ("我不是他本人", "wrong_person"),
        ("好了就这样吧", "goodbye"),
        ("拜拜", "goodbye"),
        ("转人工", "ask_human"),
        ("我要跟真人说", "ask_human"),
        ("你等一下", "hold_on"),
        ("稍等我换个地方", "hold_on"),
        ("嗯那个", "unknown"),
        ("今天天气不错", "unknown"),
    ],
)
def test_public_examples_of_the_spec_table(nlu: IntentRecognizer, text: str, expected: str) -> None:
    assert intent(nlu, text) == expected


def test_negation_decides(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "需要") == "affirm"
    assert intent(nlu, "不需要") == "reject"


def test_double_negation_is_assent(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "不是不需要") == "affirm"
    assert intent(nlu, "没有不方便") == "affirm"
    assert intent(nlu, "也不是不行") == "affirm"


def test_no_to_the_offer_is_reject_no_to_a_fact_is_deny(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "没有", context="请问您最近有申请过贷款吗？") == "deny"
    assert intent(nlu, "不", context="需要帮您办理吗？") == "reject"
    assert intent(nlu, "不是") == "deny"


def test_somebody_else_is_wrong_person(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "我是他表哥") == "wrong_person"
    assert intent(nlu, "这号码换人了") == "wrong_person"
    assert intent(nlu, "我叫张伟不是张薇") == "wrong_person"  # a similar-sounding name


def test_refusal_with_a_reason_stays_reject(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "不需要我在开车") == "reject"
    assert intent(nlu, "不要了我们家早买了") == "reject"
    assert intent(nlu, "暂时不要了容我琢磨琢磨") == "reject"


def test_refusal_asking_for_another_time_is_call_later(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "不需要了你下周再打") == "call_later"


def test_call_later_needs_a_call_verb_or_a_named_time(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "再说吧") == "consider"
    assert intent(nlu, "回头再说") == "consider"
    assert intent(nlu, "九点以后") == "call_later"
    assert intent(nlu, "今天晚上吧") == "call_later"


def test_busy_is_not_now_without_a_callback(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "我在开会") == "busy"
    assert intent(nlu, "我在开会你半小时后再打") == "call_later"


def test_asking_not_to_be_called_again_is_complaint(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "别再给我打了") == "complaint"
    assert intent(nlu, "不需要别再打了") == "complaint"  # complaint beats reject


def test_abuse_beats_everything(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "神经病啊天天打") == "abuse"
    assert intent(nlu, "你们就是骗子") == "abuse"  # 骗子 as an accusation
    assert intent(nlu, "卧槽又是推销") == "abuse"  # swearing in exasperation


def test_did_not_hear_is_repeat_whatever_the_topic(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "你刚才说利息多少我没听清") == "repeat"
    assert intent(nlu, "声音太小了") == "repeat"
    assert intent(nlu, "什么意思") == "repeat"


def test_hold_on_beats_repeat(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "等一下你刚才说什么") == "hold_on"
    assert intent(nlu, "稍等一下我听不清我出去说") == "hold_on"


def test_line_check_is_unknown_noise_as_reason_is_busy(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "喂喂喂能听到吗") == "unknown"
    assert intent(nlu, "喂") == "unknown"
    assert intent(nlu, "我这边太吵了不方便说") == "busy"


def test_questions_decide(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "你们正规吗") == "ask_identity"
    assert intent(nlu, "有什么优惠吗") == "ask_price"
    assert intent(nlu, "可以啊多少钱") == "ask_price"  # interest with a question: the question decides
    assert intent(nlu, "好的那你们在哪") == "ask_address"


def test_sarcasm_and_disbelief_are_reject(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "当然需要我太需要了呵呵") == "reject"
    assert intent(nlu, "哪有这么好的事") == "reject"


def test_possession_answered_yes_is_already_have(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "有的去年就配了") == "already_have"
    assert intent(nlu, "有", context="请问您有信用卡吗？") == "already_have"


def test_bare_backchannel_is_affirm_bare_filler_is_unknown(nlu: IntentRecognizer) -> None:
    for text in ("嗯", "嗯嗯", "哦好", "对对"):
        assert intent(nlu, text) == "affirm", text
    for text in ("喂喂", "那个", "呃"):
        assert intent(nlu, text) == "unknown", text


def test_fillers_and_punctuation_do_not_matter(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "嗯那个就是不需要啊") == "reject"
    assert intent(nlu, "呃，那个，多少钱？") == "ask_price"


@pytest.mark.parametrize(
    ("heard", "expected"),
    [("多少前", "ask_price"), ("不虚要", "reject"), ("鸡器人吧", "is_robot"), ("我要头诉你们", "complaint")],
)
def test_homophone_asr_errors(nlu: IntentRecognizer, heard: str, expected: str) -> None:
    got = nlu.recognize(heard)
    assert got.intent == expected
    assert "拼音" in got.evidence


def test_evidence_and_confidence_are_always_set(nlu: IntentRecognizer) -> None:
    for text in ("不需要", "今天天气不错", "", "我想把这个事情搞清楚", "嗯嗯"):
        got = nlu.recognize(text)
        assert isinstance(got, Recognition)
        assert got.evidence
        assert 0.0 <= got.confidence <= 1.0
    assert "不需要" in nlu.recognize("不需要").evidence


def test_script_intents_by_keyword_regex_and_example() -> None:
    nlu = build_recognizer(
        [
            IntentDefinition("ask_rate", "问利率", ("利率", "几个点"), ("利息怎么算的", "你们利率多少啊")),
            IntentDefinition("ask_refund", "问退款", ("/退(款|钱)/",), ("钱能不能退回来",)),
            IntentDefinition("affirm", keywords=("办吧",)),
        ]
    )
    got = nlu.recognize("你们利率多少")
    assert got.intent == "ask_rate" and "利率" in got.evidence
    assert nlu.recognize("那个礼率高不高").intent == "ask_rate"  # pinyin-tolerant keyword
    assert nlu.recognize("能退钱吗").intent == "ask_refund"
    assert nlu.recognize("那个钱还能不能退回来啊").intent == "ask_refund"
    assert nlu.recognize("办吧办吧").intent == "affirm"
    assert nlu.recognize("不需要").intent == "reject"  # built-ins still work


def test_building_for_a_script_is_fast() -> None:
    import time

    build_recognizer()
    start = time.perf_counter()
    build_recognizer([IntentDefinition("ask_rate", "问利率", ("利率",), ("你们利率多少啊",) * 20)])
    assert time.perf_counter() - start < 0.5


def test_accuracy_on_the_dev_set_stays_high(nlu: IntentRecognizer) -> None:
    rows = [json.loads(line) for line in (ROOT / "examples/nlu/dev.jsonl").read_text("utf-8").splitlines() if line]
    assert len(rows) >= 400
    correct = sum(nlu.recognize(r["text"], r.get("context")).intent == r["intent"] for r in rows)
    assert correct / len(rows) >= 0.97


def test_naming_a_time_the_robot_offered_is_a_choice_not_a_callback(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "周六吧", context="您看周六还是周日过来？") == "affirm"
    assert intent(nlu, "我选周六", context="周六还是周日？") == "affirm"
    assert intent(nlu, "周日下午可以", context="周日下午可以吗？") == "affirm"
    # a time the robot did not offer, or asked for as a callback time, is still call_later
    assert intent(nlu, "周六吧") == "call_later"
    assert intent(nlu, "下周一吧", context="您看周六还是周日过来？") == "call_later"
    assert intent(nlu, "明天下午吧", context="那我什么时候再联系您？") == "call_later"
    assert intent(nlu, "周六再打给我", context="周六还是周日？") == "call_later"


def test_a_refused_time_is_not_a_callback(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "那天也不行", context="那周六下午可以吗？") == "deny"
    assert intent(nlu, "周六不行") == "deny"
    assert intent(nlu, "明天没空") == "busy"
    assert intent(nlu, "可以啊为啥不行") == "affirm"


def test_a_scripts_day_keywords_win_over_the_builtin_callback() -> None:
    nlu = build_recognizer([IntentDefinition("pick_saturday", "选周六", ("周六",))])
    assert intent(nlu, "周六吧") == "pick_saturday"
    assert intent(nlu, "周六再打给我吧") == "call_later"  # a call verb still asks for a callback


def test_confirmation_is_affirm(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "确认") == "affirm"
    assert intent(nlu, "确定", context="那我这边帮您确认预约，确定吗？") == "affirm"
    assert intent(nlu, "我不确定") == "consider"


def test_not_convenient_context_does_not_turn_a_refusal_into_busy(nlu: IntentRecognizer) -> None:
    ctx = "现在方便听我介绍一下吗？"
    assert intent(nlu, "不需要", context=ctx) == "reject"
    assert intent(nlu, "不用了", context=ctx) == "reject"
    assert intent(nlu, "不", context=ctx) == "busy"
    assert intent(nlu, "不方便", context=ctx) == "busy"


def test_small_talk_about_oneself_is_unknown(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "我在家呢") == "unknown"
    assert intent(nlu, "我是东北的") == "unknown"


def test_latin_tokens_between_chinese_characters(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "是不是ai在打电话") == "is_robot"
    assert intent(nlu, "sb吧你") == "abuse"
    assert intent(nlu, "我的email是多少来着") != "is_robot"


def test_surname_questions_and_other_surnames(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "你贵姓啊") == "ask_identity"
    assert intent(nlu, "请问怎么称呼") == "ask_identity"
    assert intent(nlu, "我姓李不姓黎") == "wrong_person"


def test_a_negated_trigger_word_does_not_fire(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "没在忙你讲") == "affirm"
    assert intent(nlu, "我不是要投诉就想问问价格") == "ask_price"
    assert intent(nlu, "我不要人工你就说说多少钱") == "ask_price"
    assert intent(nlu, "不用想了就这么定了直接办吧") == "affirm"
    assert intent(nlu, "不用发资料了你直接讲吧") == "affirm"


def test_stopped_using_is_a_factual_no(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "那个号早就不用了") == "deny"
    assert intent(nlu, "早就不在那住了") == "deny"
    assert intent(nlu, "不用了", context="您还在用我们的宽带吗？") == "deny"
    assert intent(nlu, "不用了", context="需要帮您开通吗？") == "reject"


def test_rhetorical_questions_refuse(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "我这把年纪了还学啥电脑") == "reject"
    assert intent(nlu, "哪来那么多闲钱装修") == "reject"
    assert intent(nlu, "天上掉馅饼的事我可不信") == "reject"
    assert intent(nlu, "我现在哪有钱换车") == "reject"  # 现在哪 is not 在哪


def test_a_question_opening_with_yes_words_is_a_question(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "是哪个套餐") == "ask_detail"
    assert intent(nlu, "我号码是不是银行卖给你们的") == "ask_source"
    assert intent(nlu, "是不是在人民广场那边") == "ask_address"


def test_the_callee_named_as_a_relative_is_wrong_person(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "她是我女儿她不在家") == "wrong_person"
    assert intent(nlu, "那是我爸的手机") == "wrong_person"
    assert intent(nlu, "是我", context="请问是孙先生吗？") == "affirm"


def test_booking_a_visit_at_a_time_is_not_a_callback(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "帮我约个周日下午去看房") == "affirm"
    assert intent(nlu, "我周六上午过去试一下") == "affirm"
    assert intent(nlu, "周六上午") == "call_later"


def test_more_forms_of_the_same_intents(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "嗯哪") == "affirm"
    assert intent(nlu, "你往下讲") == "affirm"
    assert intent(nlu, "没怎么听明白") == "repeat"
    assert intent(nlu, "你是不是有毛病") == "abuse"
    assert intent(nlu, "我车子有毛病想修一下") != "abuse"
    assert intent(nlu, "叫个活人过来") == "ask_human"
    assert intent(nlu, "打八折吗") == "ask_price"
    assert intent(nlu, "那个免费体检是怎么回事") == "ask_detail"
    assert intent(nlu, "免费体检要钱吗") == "ask_price"
    assert intent(nlu, "这个课包括哪些内容") == "ask_detail"
    assert intent(nlu, "我在其他机构报过名了") == "already_have"
    assert intent(nlu, "看具体情况吧") == "consider"
    assert intent(nlu, "咦") == "unknown"


def test_second_probe_round(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "这个不好说") == "consider"
    assert intent(nlu, "我这开着车不好说") == "busy"
    assert intent(nlu, "等我老公回来让他定") == "consider"
    assert intent(nlu, "电话里声音断断续续的") == "repeat"
    assert intent(nlu, "你说清楚一点") == "repeat"
    assert intent(nlu, "都拒绝三次了还来") == "complaint"
    assert intent(nlu, "一群饭桶") == "abuse"
    assert intent(nlu, "你们公司合法吗") == "ask_identity"
    assert intent(nlu, "手机是我的可我不是她") == "wrong_person"
    assert intent(nlu, "这是我老婆的手机她在上班") == "wrong_person"
    assert intent(nlu, "这是我自己的号") != "wrong_person"
    assert intent(nlu, "机器不行你找个人来跟我说") == "ask_human"
    assert intent(nlu, "有没有相关的介绍我看看") == "send_info"


def test_holdout5_round(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "并不是没有兴趣") == "affirm"
    assert intent(nlu, "也不是没时间你讲") == "affirm"
    assert intent(nlu, "给我安排一个周三上午的号") == "affirm"
    assert intent(nlu, "确实没有") == "deny"
    assert intent(nlu, "没那个心思") == "reject"
    assert intent(nlu, "下个月你再来问我") == "call_later"
    assert intent(nlu, "过几天再说吧") == "consider"
    assert intent(nlu, "从哪搞到我的号") == "ask_source"
    assert intent(nlu, "这是提前录的吧") == "is_robot"
    assert intent(nlu, "不懂你的意思") == "repeat"
    assert intent(nlu, "车前两天才保养过") == "already_have"
    assert intent(nlu, "这事缓一缓") == "consider"
    assert intent(nlu, "保险保哪些疾病") == "ask_detail"
    assert intent(nlu, "店是在东边吗") == "ask_address"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # an assent keyword inside a question does not answer it
        ("孩子几岁可以学", "ask_detail"),
        ("那你说的这个送三个月是怎么送", "ask_detail"),
        ("不满意的话可以退吗", "ask_detail"),
        ("是精装修还是毛坯", "ask_detail"),
        # a closing beats the assent that opens it
        ("好的谢谢拜", "goodbye"),
        ("那行就这么着吧", "goodbye"),
        ("嗯好你忙吧", "goodbye"),
        # "the one you mention" is not "go ahead"; a relative's number is a wrong person
        ("你说的那个人早搬走了", "wrong_person"),
        ("卡是我爸的", "wrong_person"),
        ("不是我我姓黄", "wrong_person"),
        ("这是我自己的号", "affirm"),
        # sarcastic assent is a refusal
        ("好啊你先给我打一百万过来", "reject"),
        ("对对对我可太需要了", "reject"),
        # a keyword naming the offer in a reply that asks nothing leaves the answer
        ("利息再低我也不借", "reject"),
        ("这个额度我已经申请过了", "already_have"),
        # "send it over" decides over what it names
        ("把价格表发给我", "send_info"),
        # 一点 (a bit) and a number string are not times
        ("短信里面写清楚一点发给我", "send_info"),
        ("过几天联系我吧", "call_later"),
    ],
)
def test_keywords_yield_to_questions_closings_and_sarcasm(nlu: IntentRecognizer, text: str, expected: str) -> None:
    assert intent(nlu, text) == expected


def test_context_closings_and_other_surnames(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "没有了谢谢", "请问还有其他可以帮您的吗") == "goodbye"
    assert intent(nlu, "我姓邵", "您好请问是赵女士吗") == "wrong_person"
    assert intent(nlu, "我姓赵", "您好请问是赵女士吗") == "affirm"


@pytest.mark.parametrize("text", ["我明天就去还", "知道了月底前会还的", "周五之前还上", "嗯知道了我下午就去交"])
def test_a_promise_to_pay_at_a_time_is_assent_not_a_callback(nlu: IntentRecognizer, text: str) -> None:
    """In a repayment reminder the time dates the customer's own action; nobody asks to be called."""
    assert intent(nlu, text) == "affirm"


def test_a_time_with_a_call_verb_is_still_a_callback(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "明天再打吧") == "call_later"
    assert intent(nlu, "下午三点以后吧") == "call_later"


# -- the learned model: meaning over keywords, speech it was not written for --------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no thanks", "reject"),  # once read as affirm
        ("not interested", "reject"),
        ("多少钱我都不买", "reject"),  # a price word inside a refusal
        ("免费的我也不要", "reject"),
        ("我要才怪", "reject"),  # sarcasm
        ("唔使", "reject"),  # Cantonese
        ("冇兴趣", "reject"),
        ("你是什么东西", "abuse"),  # a "what is" inside an insult
    ],
)
def test_meaning_beats_the_keyword_inside_it(nlu: IntentRecognizer, text: str, expected: str) -> None:
    assert intent(nlu, text) == expected


def test_a_day_named_for_a_visit_is_an_answer_not_a_callback(nlu: IntentRecognizer) -> None:
    assert intent(nlu, "周六可以吗") == "affirm"
    assert intent(nlu, "周日下午行不行") == "affirm"
    assert intent(nlu, "周六再打给我") == "call_later"
    assert intent(nlu, "周六不行") == "deny"


def test_a_scripts_examples_beat_the_builtin_intent_they_resemble() -> None:
    reschedule = IntentDefinition("reschedule", "改约", (), ("能不能改到下周三", "改个时间行吗", "那天去不了换一天"))
    nlu = build_recognizer([reschedule])
    got = nlu.recognize("能改到周四吗")
    assert got.intent == "reschedule"
    assert "相似例句" in got.evidence
    # on the model's scale: a probability, not a raw similarity
    assert 0.5 <= got.confidence < 1.0
    # a reply far from the examples keeps its built-in intent
    assert nlu.recognize("下周三再打给我").intent == "call_later"
    assert nlu.recognize("不需要").intent == "reject"


def test_an_example_naming_another_number_does_not_count() -> None:
    nlu = build_recognizer([IntentDefinition("pick_term", "选择期数", (), ("分六期吧", "十二期吧"))])
    assert nlu.recognize("分六期").intent == "pick_term"
    assert nlu.recognize("我想分36期").intent != "pick_term"


def test_confidences_are_calibrated_on_the_dev_set(nlu: IntentRecognizer) -> None:
    rows = [json.loads(line) for line in (ROOT / "examples/nlu/dev.jsonl").read_text("utf-8").splitlines() if line]
    sure = [r for r in rows if nlu.recognize(r["text"], r.get("context")).confidence >= 0.9]
    unsure = [r for r in rows if nlu.recognize(r["text"], r.get("context")).confidence < 0.6]
    assert len(sure) > len(rows) / 2
    right = sum(nlu.recognize(r["text"], r.get("context")).intent == r["intent"] for r in sure)
    assert right / len(sure) >= 0.95
    assert len(unsure) < len(rows) / 10
