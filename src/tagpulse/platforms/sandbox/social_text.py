"""Words of the sandbox's social world: names, biographies, captions and comments.

Six languages (``en fr es de pt ja``), emoji everywhere. Captions and comments carry a latent
sentiment in ``[-1, 1]``: above :data:`POSITIVE_AT` the text is built from positive phrases and
emoji, below :data:`NEGATIVE_AT` from negative ones, in between from neutral ones, so a sentiment
model run over the collected text can find the signal the world put there. Pure functions of the
``random.Random`` passed in.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

__all__ = [
    "CATEGORIES",
    "NEGATIVE_AT",
    "POSITIVE_AT",
    "SOCIAL_LANGUAGES",
    "extra_tags",
    "make_biography",
    "make_name",
    "make_social_caption",
    "make_social_comment",
    "sentiment_label",
]

SOCIAL_LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "de", "pt", "ja")
POSITIVE_AT = 0.25
NEGATIVE_AT = -0.25

# (given name, family name, ascii handle part of each) per language.
_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "en": (
        ("Emma", "Liam", "Olivia", "Noah", "Ava", "Mason", "Chloe", "Ethan", "Grace", "Jack"),
        ("Smith", "Taylor", "Brown", "Wilson", "Evans", "Walker", "Hughes", "Clarke"),
    ),
    "fr": (
        ("Léa", "Hugo", "Chloé", "Louis", "Manon", "Jules", "Camille", "Théo", "Inès", "Lucas"),
        ("Martin", "Bernard", "Dubois", "Durand", "Lefèvre", "Moreau", "Laurent", "Roux"),
    ),
    "es": (
        ("Lucía", "Mateo", "Sofía", "Pablo", "Valeria", "Diego", "Carmen", "Javier", "Elena"),
        ("García", "López", "Martínez", "Sánchez", "Romero", "Navarro", "Torres", "Ruiz"),
    ),
    "de": (
        ("Mia", "Leon", "Hannah", "Felix", "Lena", "Jonas", "Marie", "Paul", "Lea", "Finn"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Wagner", "Koch"),
    ),
    "pt": (
        ("João", "Ana", "Gabriel", "Beatriz", "Rafael", "Mariana", "Tiago", "Inês", "Bruno"),
        ("Silva", "Santos", "Ferreira", "Oliveira", "Costa", "Rodrigues", "Almeida", "Sousa"),
    ),
    "ja": (
        ("美咲:misaki", "蓮:ren", "陽菜:hina", "大翔:hiroto", "結衣:yui", "湊:minato", "葵:aoi"),
        ("佐藤:sato", "鈴木:suzuki", "高橋:takahashi", "田中:tanaka", "伊藤:ito", "山本:yamamoto"),
    ),
}
_ASCII = str.maketrans("áàâäãéèêëíìîïóòôöõúùûüçñß", "aaaaaeeeeiiiiooooouuuucns")
_HANDLE_WORDS = (
    "travels",
    "eats",
    "lens",
    "daily",
    "vibes",
    "studio",
    "runs",
    "style",
    "wander",
    "snaps",
    "official",
    "life",
    "creates",
    "shop",
)
CATEGORIES: tuple[tuple[str, str], ...] = (
    # (category_name, business_category_name)
    ("Artist", "Creators & Celebrities"),
    ("Photographer", "Creators & Celebrities"),
    ("Athlete", "Creators & Celebrities"),
    ("Personal Blog", "Creators & Celebrities"),
    ("Restaurant", "Restaurants"),
    ("Clothing (Brand)", "Shopping & Retail"),
    ("Shopping & Retail", "Shopping & Retail"),
    ("Travel Company", "Travel & Transportation"),
    ("Sports & Recreation", "Local Events"),
)

_BIO: dict[str, tuple[str, ...]] = {
    "en": ("Chasing light and good coffee", "Runner, reader, dreamer", "Life is better outside"),
    "fr": ("Amoureux de Paris et du bon pain", "Photographe du dimanche", "Toujours en voyage"),
    "es": ("Viajar es vivir", "Café, libros y buenas vibras", "Corriendo tras mis sueños"),
    "de": ("Kaffee, Berge und gute Laune", "Fotografie aus Leidenschaft", "Immer unterwegs"),
    "pt": ("Apaixonada por viagens", "Café, praia e boas fotos", "Vivendo um dia de cada vez"),
    "ja": ("写真と旅が好きです", "カフェ巡りが趣味", "毎日を楽しく"),
}
_BIO_EMOJI = ("📸", "🌍", "☕", "🏃", "✨", "🌊", "🎨", "📍", "🇫🇷", "🇯🇵", "🇧🇷", "🇪🇸", "🇩🇪")

# Caption phrases by language and sentiment class.
_PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "pos": (
            "Best day ever",
            "So happy right now",
            "Absolutely love this place",
            "Amazing vibes",
        ),
        "neg": (
            "Worst day ever",
            "So disappointed",
            "Terrible service, never again",
            "Feeling sad",
        ),
        "neu": ("Another day in town", "Back at it", "Out and about", "Weekend plans"),
    },
    "fr": {
        "pos": ("Une journée magnifique", "Tellement heureux", "J'adore cet endroit", "Trop bien"),
        "neg": ("Quelle journée horrible", "Tellement déçu", "Service nul, plus jamais", "Triste"),
        "neu": (
            "Encore une journée en ville",
            "De retour",
            "En balade",
            "Le programme du week-end",
        ),
    },
    "es": {
        "pos": ("El mejor día", "Muy feliz", "Me encanta este lugar", "Qué maravilla"),
        "neg": ("El peor día", "Muy decepcionado", "Un servicio horrible, nunca más", "Qué triste"),
        "neu": ("Otro día en la ciudad", "De vuelta", "Paseando", "Planes de fin de semana"),
    },
    "de": {
        "pos": ("Der beste Tag", "So glücklich", "Ich liebe diesen Ort", "Einfach wunderbar"),
        "neg": (
            "Der schlimmste Tag",
            "So enttäuscht",
            "Schrecklicher Service, nie wieder",
            "Traurig",
        ),
        "neu": ("Noch ein Tag in der Stadt", "Wieder da", "Unterwegs", "Pläne fürs Wochenende"),
    },
    "pt": {
        "pos": ("O melhor dia", "Muito feliz", "Amo este lugar", "Que maravilha"),
        "neg": ("O pior dia", "Muito decepcionado", "Serviço horrível, nunca mais", "Que tristeza"),
        "neu": ("Mais um dia na cidade", "De volta", "Passeando", "Planos para o fim de semana"),
    },
    "ja": {
        "pos": ("最高の一日", "とても幸せ", "この場所が大好き", "素晴らしい"),
        "neg": ("最悪の一日", "がっかりした", "ひどいサービス、二度と行かない", "悲しい"),
        "neu": ("街での一日", "また戻ってきた", "お出かけ", "週末の予定"),
    },
}
_COMMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "pos": ("Love this!", "Gorgeous", "So beautiful", "Amazing shot"),
        "neg": ("Not great", "This is awful", "Disappointing", "Hate this"),
        "neu": ("Where is this?", "Nice", "When?", "Interesting"),
    },
    "fr": {
        "pos": ("J'adore !", "Magnifique", "Trop beau", "Superbe photo"),
        "neg": ("Bof", "C'est nul", "Décevant", "Horrible"),
        "neu": ("C'est où ?", "Sympa", "Quand ?", "Intéressant"),
    },
    "es": {
        "pos": ("¡Me encanta!", "Precioso", "Qué bonito", "Increíble"),
        "neg": ("No me gusta", "Horrible", "Decepcionante", "Qué malo"),
        "neu": ("¿Dónde es?", "Bien", "¿Cuándo?", "Interesante"),
    },
    "de": {
        "pos": ("Liebe es!", "Wunderschön", "So schön", "Tolles Foto"),
        "neg": ("Nicht gut", "Schrecklich", "Enttäuschend", "Furchtbar"),
        "neu": ("Wo ist das?", "Nett", "Wann?", "Interessant"),
    },
    "pt": {
        "pos": ("Amei!", "Lindo demais", "Que bonito", "Foto incrível"),
        "neg": ("Não gostei", "Horrível", "Decepcionante", "Que ruim"),
        "neu": ("Onde é?", "Legal", "Quando?", "Interessante"),
    },
    "ja": {
        "pos": ("大好き！", "きれい", "素敵", "最高の写真"),
        "neg": ("微妙", "ひどい", "残念", "嫌い"),
        "neu": ("どこですか？", "いいね", "いつ？", "面白い"),
    },
}
_EMOJI = {
    "pos": ("😍", "❤️", "🔥", "🥰", "✨", "🙌", "😊", "💯", "🎉"),
    "neg": ("😡", "😢", "👎", "💔", "😞", "🙄", "😤"),
    "neu": ("📸", "📍", "🌍", "☀️", "👟", "🌅", "☕"),
}
_EXTRA_TAGS = (
    "love",
    "instagood",
    "photooftheday",
    "travel",
    "style",
    "happy",
    "weekend",
    "friends",
    "nofilter",
    "art",
)


def sentiment_label(sentiment: float) -> str:
    """``positive``, ``negative`` or ``neutral`` for a latent sentiment in [-1, 1]."""
    if sentiment > POSITIVE_AT:
        return "positive"
    if sentiment < NEGATIVE_AT:
        return "negative"
    return "neutral"


def _klass(sentiment: float) -> str:
    return {"positive": "pos", "negative": "neg", "neutral": "neu"}[sentiment_label(sentiment)]


def _split(entry: str) -> tuple[str, str]:
    if ":" in entry:
        text, handle = entry.split(":", 1)
        return text, handle
    return entry, entry.lower().translate(_ASCII).encode("ascii", "ignore").decode()


def make_name(rng: random.Random, language: str) -> tuple[str, str]:
    """A full name and a username candidate (lower-case ascii, letters, digits, ``._``)."""
    given, family = _NAMES[language]
    first, first_ascii = _split(rng.choice(given))
    last, last_ascii = _split(rng.choice(family))
    word = rng.choice(_HANDLE_WORDS)
    pattern = rng.randrange(5)
    if pattern == 0:
        handle = f"{first_ascii}.{last_ascii}"
    elif pattern == 1:
        handle = f"{first_ascii}_{word}"
    elif pattern == 2:
        handle = f"{last_ascii}{word}{rng.randrange(10, 99)}"
    elif pattern == 3:
        handle = f"{word}.{first_ascii}{rng.randrange(1, 99)}"
    else:
        handle = f"{first_ascii}{last_ascii}{rng.randrange(100, 999)}"
    full = f"{last} {first}" if language == "ja" else f"{first} {last}"
    return full, handle


def make_biography(rng: random.Random, language: str, category: str | None) -> str:
    parts = [rng.choice(_BIO[language]), rng.choice(_BIO_EMOJI)]
    if category is not None and rng.random() < 0.5:
        parts.append(f"| {category}")
    if rng.random() < 0.4:
        parts.append(rng.choice(_BIO_EMOJI))
    return " ".join(parts)


def make_social_caption(
    rng: random.Random,
    language: str,
    sentiment: float,
    tags: Sequence[str],
    mentions: Sequence[str],
) -> str:
    """A caption whose words and emoji follow ``sentiment``, then its mentions and hashtags."""
    klass = _klass(sentiment)
    text = rng.choice(_PHRASES[language][klass])
    emoji = "".join(rng.choice(_EMOJI[klass]) for _ in range(rng.randint(1, 3)))
    words = [f"{text} {emoji}"]
    words.extend(f"@{handle}" for handle in mentions)
    words.extend(f"#{tag}" for tag in tags)
    return " ".join(words)


def extra_tags(rng: random.Random, k: int) -> list[str]:
    return rng.sample(_EXTRA_TAGS, k)


def make_social_comment(rng: random.Random, language: str, sentiment: float) -> str:
    klass = _klass(sentiment)
    text = rng.choice(_COMMENTS[language][klass])
    if rng.random() < 0.6:
        text += " " + rng.choice(_EMOJI[klass])
    return text
