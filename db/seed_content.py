"""Words of the demo data: catalogues, customer texts, agent replies, personas, policy rules.

Plain constants only; ``db.seed`` draws from them with a seeded random generator.
"""
from __future__ import annotations

CATEGORIES = ["apparel", "footwear", "accessories", "electronics", "home", "beauty", "sports", "toys"]

# business key -> (order id prefix, email domain of the shop, catalogue of (product, category, price))
CATALOGUES: dict[str, tuple[str, list[tuple[str, str, float]]]] = {
    "atlas": ("ATL", [
        ("Trailhead Waterproof Jacket", "apparel", 189.00),
        ("Merino Base Layer Crew", "apparel", 79.00),
        ("Down Puffer Vest", "apparel", 139.00),
        ("Packable Rain Shell", "apparel", 99.00),
        ("Wool Hiking Socks (3-pack)", "apparel", 24.00),
        ("Summit Hiking Boots", "footwear", 164.00),
        ("Trail Runner 3", "footwear", 129.00),
        ("Camp Slip-On Mocs", "footwear", 59.00),
        ("Canyon Daypack 24L", "accessories", 89.00),
        ("Polarised Trail Sunglasses", "accessories", 65.00),
        ("Alpine Trekking Poles", "sports", 69.00),
        ("Ultralight Tent 2P", "sports", 379.00),
        ("GPS Trail Watch", "electronics", 249.00),
        ("Camp Headlamp 400", "electronics", 39.00),
    ]),
    "bloom": ("BLM", [
        ("Linen Duvet Cover Set", "home", 149.00),
        ("Stoneware Dinner Set (12 pc)", "home", 119.00),
        ("Hand-poured Soy Candle", "home", 28.00),
        ("Ceramic Bud Vase Trio", "home", 42.00),
        ("Woven Storage Basket", "home", 58.00),
        ("Velvet Throw Pillow", "home", 46.00),
        ("Copper Watering Can", "home", 52.00),
        ("Rose Hip Face Oil", "beauty", 36.00),
        ("Botanical Bath Salts", "beauty", 22.00),
        ("Lavender Hand Cream", "beauty", 18.00),
        ("Macrame Wall Hanging", "accessories", 75.00),
        ("Wooden Stacking Toy", "toys", 34.00),
        ("Ultrasonic Aroma Diffuser", "electronics", 64.00),
    ]),
    "cobalt": ("CBT", [
        ("NovaBook 14 Laptop", "electronics", 1199.00),
        ("Pulse ANC Headphones", "electronics", 279.00),
        ("Orbit Smart Speaker", "electronics", 129.00),
        ("Lumen 27-inch 4K Monitor", "electronics", 429.00),
        ("Volt 65W USB-C Charger", "electronics", 49.00),
        ("Echo Buds Wireless Earbuds", "electronics", 159.00),
        ("Pixel Frame Smart Display", "electronics", 199.00),
        ("Laptop Sleeve 14-inch", "accessories", 39.00),
        ("Braided USB-C Cable 2 m", "accessories", 19.00),
        ("Ergonomic Wireless Mouse", "accessories", 59.00),
        ("Kids Coding Robot", "toys", 89.00),
        ("Fitness Band 2", "sports", 79.00),
    ]),
    "dune": ("DUN", [
        ("Pro 6'2 Shortboard", "sports", 689.00),
        ("Soft-top Longboard 8'", "sports", 349.00),
        ("Surf Leash 7'", "sports", 35.00),
        ("4/3 Chest-zip Wetsuit", "apparel", 329.00),
        ("Recycled Boardshorts", "apparel", 59.00),
        ("UPF 50 Rash Guard", "apparel", 49.00),
        ("Reef Sandals", "footwear", 45.00),
        ("Neoprene Booties", "footwear", 55.00),
        ("Board Wax (5-pack)", "accessories", 12.00),
        ("Wide-brim Sun Hat", "accessories", 32.00),
        ("Travel Board Bag", "accessories", 149.00),
        ("Waterproof Action Camera", "electronics", 299.00),
    ]),
}
GENERIC_CATALOGUE = [
    ("Everyday Cotton Tee", "apparel", 29.00), ("Canvas Sneakers", "footwear", 69.00),
    ("Leather Card Wallet", "accessories", 45.00), ("Bluetooth Speaker Mini", "electronics", 59.00),
    ("Ceramic Mug Set", "home", 32.00), ("Vitamin C Serum", "beauty", 38.00),
    ("Yoga Mat Pro", "sports", 79.00), ("Plush Bear", "toys", 25.00),
]

FIRST_NAMES = [
    "amira", "ben", "chloe", "dev", "elena", "farid", "grace", "hugo", "ines", "jonas", "kemi", "liam",
    "maya", "nikhil", "olga", "pablo", "quinn", "rosa", "sami", "tara", "umar", "vera", "wei", "xena",
    "yusuf", "zoe", "aiko", "bruno", "carla", "diego", "emma", "felix", "gita", "hana", "ivan", "julia",
]
LAST_NAMES = [
    "okafor", "schmidt", "nguyen", "garcia", "khan", "rossi", "silva", "kowalski", "tanaka", "murphy",
    "haddad", "johansson", "mensah", "dubois", "petrov", "costa", "lee", "novak", "ahmed", "brown",
    "fischer", "martin", "sato", "walsh", "yilmaz", "moreau", "patel", "lopez", "berg", "adeyemi",
]
EMAIL_DOMAINS = ["example.com", "example.net", "example.org", "mail.example", "inbox.example"]

REASONS = ["damaged", "wrong_item", "doesnt_fit", "not_as_described", "changed_mind", "defective", "late_delivery"]
REASON_WEIGHTS = [18, 10, 20, 14, 8, 16, 8]

# Free text a customer writes; {product} and {days} are filled in.
REASON_TEXTS: dict[str, list[str]] = {
    "damaged": [
        "The {product} arrived damaged. The box was crushed and there is a crack along one side.",
        "Opened the parcel today and the {product} is scratched all over, looks like it was dropped in transit.",
        "My {product} came with a big dent and torn packaging. Photos attached.",
        "Item arrived broken. The {product} was not packed properly, nothing protecting it in the box.",
    ],
    "wrong_item": [
        "I ordered the {product} but received a different item completely.",
        "Wrong item in the box - the packing slip says {product} but this is another product.",
        "You sent me the wrong colour and size of the {product}. I need the one I actually ordered.",
        "Received someone else's order instead of my {product}.",
    ],
    "doesnt_fit": [
        "The {product} is too small, I normally take this size everywhere else. Would like to return it.",
        "Doesn't fit - the {product} runs a full size large.",
        "Tried the {product} on and the fit is wrong for me, too tight across the shoulders.",
        "Sizing chart was off, the {product} doesn't fit. Unworn, tags still on.",
    ],
    "not_as_described": [
        "The {product} looks different from the photos on the website. The colour is much duller.",
        "Listing said the {product} was premium material, it clearly isn't. Misleading.",
        "Not as described: the {product} is smaller and flimsier than the product page suggests.",
        "Not as described - the {product} is missing features that were listed.",
    ],
    "changed_mind": [
        "Changed my mind about the {product}, it's unopened. Can I send it back?",
        "I bought the {product} as a gift but they already have one. Still sealed.",
        "Found it cheaper elsewhere, would like to return the {product} please.",
        "Don't need the {product} any more. Never used.",
    ],
    "defective": [
        "The {product} stopped working properly after {days} days: {defect}.",
        "Defective {product}: {defect}.",
        "My {product} is faulty - {defect}.",
        "The {product} is faulty, {defect}. Only had it {days} days.",
    ],
    "late_delivery": [
        "The {product} arrived two weeks late, I needed it for a trip and no longer need it.",
        "Delivery took too long, the {product} came after the event it was for.",
        "Order was supposed to arrive in 3 days, the {product} arrived after almost three weeks.",
        "Late delivery - I already bought a replacement for the {product} locally.",
    ],
}

# What breaks, by category (defective returns).
DEFECTS = {
    "apparel": ["the zip broke the second time I wore it", "a seam came apart within a week",
                "the waterproof coating is peeling off"],
    "footwear": ["the sole is coming away from the upper", "the stitching on the heel split",
                 "one of the eyelets tore out"],
    "accessories": ["the clasp broke straight away", "the strap buckle snapped", "the lining ripped"],
    "electronics": ["it won't turn on at all", "the battery won't hold a charge", "it keeps disconnecting"],
    "home": ["there is a hairline crack and it leaks", "the finish is flaking off", "the stitching is unravelling"],
    "beauty": ["the pump dispenser doesn't work", "the seal had failed and it has separated",
               "it caused a rash, the batch seems off"],
    "sports": ["the fastening snapped on first use", "it delaminated after one session", "the fin box split"],
    "toys": ["pieces don't fit together", "the paint chips off", "a part snapped off on day one"],
}
# Reasons that make sense for a category (a candle can't be the wrong size).
FITTING_CATEGORIES = {"apparel", "footwear", "sports"}

# Customer text that must be shown as text, never rendered (markdown / HTML injection attempts).
HOSTILE_TEXTS = [
    "<script>alert(1)</script> The {product} arrived broken, refund me now.",
    "**URGENT** the {product} is defective!!! [click here for my photos](http://evil.example/phish) or else",
    "<img src=x onerror=alert(1)> wrong item sent, this is not the {product} I ordered",
]

AGENT_REPLIES = [
    "Thanks for reaching out. I'm sorry about the {product}. Could you share a photo so we can take a look?",
    "I'm sorry to hear that. I've opened a return request for your {product} and our team will review it shortly.",
    "Thank you for the details. I've logged your return for the {product}; you'll get an update by email.",
    "I understand. Let me check the order and our return policy for the {product}.",
]
CUSTOMER_FOLLOW_UPS = [
    "Photos are uploaded. Please let me know what happens next.",
    "Thanks. How long will the refund take?",
    "Ok, I'd prefer a refund rather than store credit.",
    "I've attached the photos and the packing slip.",
    "Can I get a prepaid return label?",
]

FRAUD_FLAGS = ["address_mismatch", "serial_returner", "evidence_reused", "chargeback_history"]

# What a reviewer writes, by decision and by what the return shows (db.seed_history picks the one that fits).
APPROVE_NOTES = {
    "photos": "Photos confirm the damage. Approved, label sent.",
    "exception": "Outside policy, but a loyal customer: approved once as an exception.",
    "evidence": "Checked the evidence, looks genuine. Refund to original payment.",
    "window": "Approved - within the return window.",
    "second_look": "Second reviewer agrees: approve.",
}
DENY_NOTES = {
    "outside_return_window": "Outside the return window, no exception.",
    "reason_not_accepted": "This reason is not covered by the policy in force. Denied.",
    "evidence_reused": "Evidence reused from an earlier claim. Denied.",
    "missing_evidence": "No photos after two reminders; denied.",
    "worn": "Item shows signs of use beyond trying on. Denied per policy.",
    "other": "Denied after review: the evidence does not support the claim.",
    "second_look": "Second reviewer confirms the denial.",
}
ESCALATION_NOTES = {
    "value": "Order value above the auto-escalation threshold",
    "evidence_reused": "Possible fraud pattern: evidence reused across claims",
    "flags": "Fraud flags need a second reviewer: {flags}",
    "carrier": "Carrier claim needed for damaged shipment",
    "repeat": "Repeat returner, needs a second reviewer",
    "disputes": "Customer disputes the earlier denial",
    "other": "Mixed signals, needs a second reviewer",
}
# reasons where "signs of use" is a plausible denial
WORN_REASONS = ("doesnt_fit", "changed_mind")

# Chat test sessions: (scenario, intent, [(sender, text), ...])
CHAT_SCRIPTS = [
    ("Damaged item refund", "refund_request", [
        ("customer", "Hi, my order arrived damaged and I'd like a refund."),
        ("agent", "I'm sorry about that! Could you share your order number and a photo of the damage?"),
        ("customer", "Order {order}. Photo attached."),
        ("agent", "Thanks, the damage is clear. Under our policy this qualifies for a full refund. I've started it."),
    ]),
    ("Out of window exchange", "exchange_request", [
        ("customer", "Can I exchange something I bought about seven weeks ago?"),
        ("agent", "Let me check. Our return window is {window} days, so this one is outside it, I'm afraid."),
        ("customer", "That's disappointing, it was a gift."),
        ("agent", "I understand. I can offer store credit as a one-time courtesy, or pass this to a colleague."),
    ]),
    ("Where is my refund", "refund_status", [
        ("customer", "I sent my return back ten days ago, where is my refund?"),
        ("agent", "Let me look that up. Your return was received and the refund was issued yesterday."),
        ("customer", "Great, thanks."),
    ]),
    ("Angry customer escalation", "escalation", [
        ("customer", "This is the third time I'm asking. I want to talk to a human NOW."),
        ("agent", "I'm really sorry for the trouble. I'm escalating this to a member of our team right away."),
        ("customer", "Fine. Make it quick."),
        ("agent", "Done - someone will contact you within 24 hours. Your reference is {order}."),
    ]),
    ("Wrong size", "exchange_request", [
        ("customer", "The boots are a size too small. Can I swap them?"),
        ("agent", "Of course. Unworn items can be exchanged within {window} days. Which size would you like?"),
        ("customer", "One size up please."),
        ("agent", "Done. A prepaid label is on its way to your email."),
    ]),
    ("Policy question", "policy_question", [
        ("customer", "Do you charge a restocking fee on electronics?"),
        ("agent", "Opened electronics have a restocking fee under our current policy; unopened ones don't."),
    ]),
]
CHAT_MODES = ["normal", "messenger", "whatsapp", "shopify", "woocommerce"]

# Voice and video call transcripts: alternating agent / customer lines. Line 0 is the persona's greeting on the
# call (``CALL_GREETINGS``). Each script says what the call reached (``resolution`` in the call's analytics) and
# which kind of return it is about (None: it concerns no identified return, so it is linked to none).
CALL_SCRIPTS = [
    ("resolved", "damaged", [
        "{greeting}",
        "Hi, I got a {product} and it arrived broken.",
        "I'm sorry to hear that. Can you tell me your order number?",
        "It's {order}.",
        "Thank you. I can see the order. Was the box damaged when it arrived?",
        "Yes, the corner was completely crushed.",
        "Understood. I've opened a return and you'll get a prepaid label by email. Anything else?",
        "No, that's all. Thanks.",
    ]),
    ("resolved", "doesnt_fit", [
        "{greeting}",
        "I want to return a {product}, it doesn't fit. The order is {order}.",
        "No problem. Is it unworn with the tags still attached?",
        "Yes, I only tried it on once.",
        "Great, that's within our policy. I've opened the return: would you like a refund or an exchange?",
        "A refund please.",
        "Done. The refund is issued once the item reaches our warehouse.",
    ]),
    ("escalated", "defective", [
        "{greeting}",
        "My {product} stopped working and I want my money back today.",
        "I'm sorry. Let me check the order {order}... I see your return is already with our team.",
        "It's clearly defective, this is ridiculous.",
        "I understand your frustration. I'm passing this to a specialist who will call you back.",
        "Fine.",
    ]),
    ("unresolved", None, [
        "{greeting}",
        "Hi, I want to send something back but I don't have my order number with me.",
        "I can look it up by email. Which address did you order with?",
        "Hmm, I'm not sure which one I used. I'll have to check.",
        "No problem. Call back with the order number and we'll open the return straight away.",
        "Okay, I'll call back later.",
    ]),
]
# The first words of a call, by persona slug ({shop} is filled in): a call greets as a call.
CALL_GREETINGS = {
    "voice-ava": "Hi, thanks for calling {shop}. I'm Ava. How can I help with your order today?",
    "voice-max": "{shop} returns, Max speaking. What can I do for you?",
    "video-nora": "Hello! I'm Nora from {shop}. Hold the item up to the camera and I'll take a look.",
}
CALL_FEEDBACK = {
    5: ["Quick and friendly, sorted in two minutes.", "Best support call I've had."],
    4: ["Helpful, a bit slow to answer.", "Good, solved my problem."],
    3: ["Okay, but I had to repeat myself.", "Got there in the end."],
    2: ["The agent kept interrupting me.", "Didn't really understand my issue."],
    1: ["Useless, I want a human.", "Call dropped twice."],
}

# Personas: (slug, provider, config name, config_data)
VOICE_PERSONAS = [
    ("voice-ava", "Ava (warm voice)", {
        "persona_name": "Ava", "voice_id": "EXAVITQu4vr4xnSDxMaL", "tone": "warm", "language": "en",
        "greeting": "Hi, I'm Ava from {shop}. How can I help with your return today?",
        "sign_off": "Thanks for getting in touch with {shop}. Have a lovely day!",
        "escalation": {"on_intents": ["escalation", "legal_threat", "chargeback"]},
    }),
    ("voice-max", "Max (brisk voice)", {
        "persona_name": "Max", "voice_id": "TxGEqnHWrfWFTfGW9XjX", "tone": "concise", "language": "en",
        "greeting": "{shop} returns, Max here. What's your order number?",
        "sign_off": "All set. Thanks for shopping with {shop}.",
        "escalation": {"on_intents": ["escalation", "chargeback"]},
    }),
]
VIDEO_PERSONAS = [
    ("video-nora", "Nora (video)", {
        "persona_name": "Nora", "replica_id": "r79e1c033f", "tone": "friendly", "language": "en",
        "greeting": "Hello! I'm Nora from {shop}. Hold the item up to the camera and I'll take a look.",
        "sign_off": "Thanks for showing me. You'll get an email with the next steps.",
    }),
]
CALL_EVENT_TYPES = ["call_started", "greeting_played", "intent_detected", "policy_checked", "escalation_requested",
                    "return_created", "call_ended"]
PERSONA_SCENARIOS = [
    ("damaged_item", "Customer reports a damaged item and asks for a refund", "refund_request"),
    ("outside_window", "Customer asks to return an item after the window", "exchange_request"),
    ("angry_customer", "Customer demands a human and threatens a chargeback", "escalation"),
    ("refund_status", "Customer asks where their refund is", "refund_status"),
    ("policy_question", "Customer asks about restocking fees", "policy_question"),
]

SECURITY_EVENT_TYPES = {
    "address_mismatch": "address_mismatch",
    "serial_returner": "multiple_returns_short_period",
    "evidence_reused": "evidence_reused",
    "chargeback_history": "chargeback_history",
}


def policy_rules(version: int, key: str) -> dict:
    """Rules of policy version ``version`` (0 = v1.0 retired, 1 = v1.1 active, 2 = v1.2-draft)."""
    window = [30, 30, 45][version]
    rules = {
        "return_window_days": window,
        "auto_approve_threshold": [75.0, 100.0, 150.0][version],
        "auto_escalation_threshold": [500.0, 750.0, 1000.0][version],
        "required_evidence": [["photo"], ["photo"], ["photo", "receipt"]][version],
        "acceptable_reasons": (
            ["damaged", "defective", "wrong_item", "not_as_described", "doesnt_fit", "late_delivery"]
            if version == 0 else
            ["damaged", "defective", "wrong_item", "not_as_described", "doesnt_fit", "changed_mind", "late_delivery"]
        ),
        "high_risk_categories": ["electronics"] + (["beauty"] if key == "bloom" and version > 0 else []),
        "fraud_flags": FRAUD_FLAGS[:3] if version == 0 else list(FRAUD_FLAGS),
        "risk_thresholds": [
            {"auto_approve_max": 0.3, "auto_deny_min": 0.9},
            {"auto_approve_max": 0.35, "auto_deny_min": 0.85},
            {"auto_approve_max": 0.4, "auto_deny_min": 0.8},
        ][version],
        "allow_voice_calls": True,
        "allow_video_calls": version == 2,
        "record_calls": True,
        "max_call_duration": [600, 900, 1200][version],
        "category_overrides": {
            "electronics": {
                "return_window_days": [14, 15, 21][version],
                "restocking_fee_pct": [15.0, 15.0, 10.0][version],
                "final_sale": False,
            }
        },
    }
    return rules
