"""Readable content: what a value looks like when a model writes it.

A property's name says what it holds: `departureCity` gets a city, `email` an address,
`days` a small count. These tables map name words to makers of plausible strings and to
plausible number ranges, and `FORMATS` gives a value for each JSON Schema `format`.
Everything is drawn only from the `rng` passed in, so one seed reproduces a reply.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Callable
from functools import lru_cache

from ..vocabulary import words

__all__ = ["FORMATS", "number_hint", "singular", "some_words", "text_for"]

_CITIES = ("Beijing", "Shanghai", "Tokyo", "Paris", "London", "Berlin", "New York",
           "Singapore", "Sydney", "Toronto", "Hangzhou", "Madrid")
_COUNTRIES = ("China", "Japan", "France", "Germany", "Canada", "Brazil", "India", "Spain")
_FIRST = ("Alice", "Bob", "Chen", "Diana", "Ethan", "Fatima", "Hiro", "Maria", "Omar", "Wei")
_LAST = ("Zhang", "Smith", "Wang", "Garcia", "Tanaka", "Brown", "Kim", "Lopez", "Li", "Novak")
_LANGUAGES = ("English", "Chinese", "Japanese", "French", "German", "Spanish")
_COLORS = ("red", "blue", "green", "black", "white", "orange", "purple")
_CURRENCIES = ("USD", "CNY", "EUR", "JPY", "GBP")
_STATUSES = ("active", "pending", "done", "failed")
_STREETS = ("Maple Street", "Nanjing Road", "Park Avenue", "High Street", "Elm Road")


def some_words(rng: random.Random, count: int) -> str:
    """`count` words from the shared vocabulary."""
    vocab = words()
    return " ".join(vocab[int(rng.random() * len(vocab))] for _ in range(count))


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _email(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST).lower()}.{rng.choice(_LAST).lower()}@example.com"


def _date(rng: random.Random) -> str:
    return f"{rng.randint(2020, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _time(rng: random.Random) -> str:
    return f"{rng.randint(0, 23):02d}:{rng.choice((0, 15, 30, 45)):02d}:00Z"


FORMATS: dict[str, Callable[[random.Random], str]] = {
    "date": _date,
    "date-time": lambda rng: f"{_date(rng)}T{_time(rng)}",
    "time": _time,
    "email": _email,
    "idn-email": _email,
    "uri": lambda rng: f"https://example.com/{some_words(rng, 1)}",
    "url": lambda rng: f"https://example.com/{some_words(rng, 1)}",
    "iri": lambda rng: f"https://example.com/{some_words(rng, 1)}",
    "uri-reference": lambda rng: f"/{some_words(rng, 1)}/{rng.randint(1, 99)}",
    "uuid": lambda rng: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    "ipv4": lambda rng: ".".join(str(rng.randint(1, 254)) for _ in range(4)),
    "ipv6": lambda rng: "2001:db8::" + format(rng.getrandbits(16), "x"),
    "hostname": lambda rng: f"{some_words(rng, 1)}.example.com",
    "idn-hostname": lambda rng: f"{some_words(rng, 1)}.example.com",
    "duration": lambda rng: f"P{rng.randint(1, 30)}D",
    "iri-reference": lambda rng: f"/{some_words(rng, 1)}/{rng.randint(1, 99)}",
    "uri-template": lambda rng: f"https://example.com/{some_words(rng, 1)}/{{id}}",
    "json-pointer": lambda rng: f"/{some_words(rng, 1)}/{rng.randint(0, 9)}",
    "relative-json-pointer": lambda rng: f"{rng.randint(0, 3)}/{some_words(rng, 1)}",
    "regex": lambda rng: f"^{some_words(rng, 1)}[0-9]+$",
}

_TEXT_KINDS: dict[str, Callable[[random.Random], str]] = {
    "city": lambda rng: rng.choice(_CITIES),
    "country": lambda rng: rng.choice(_COUNTRIES),
    "person": _person,
    "first": lambda rng: rng.choice(_FIRST),
    "last": lambda rng: rng.choice(_LAST),
    "email": _email,
    "url": FORMATS["uri"],
    "date": _date,
    "datetime": FORMATS["date-time"],
    "time": lambda rng: _time(rng)[:5],
    "phone": lambda rng: f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
    "id": lambda rng: f"{some_words(rng, 1)}_{rng.randint(100, 999)}",
    "uuid": FORMATS["uuid"],
    "language": lambda rng: rng.choice(_LANGUAGES),
    "color": lambda rng: rng.choice(_COLORS),
    "currency": lambda rng: rng.choice(_CURRENCIES),
    "status": lambda rng: rng.choice(_STATUSES),
    "address": lambda rng: f"{rng.randint(1, 200)} {rng.choice(_STREETS)}",
    "file": lambda rng: f"{some_words(rng, 1)}.{rng.choice(('txt', 'pdf', 'csv', 'png'))}",
    "title": lambda rng: some_words(rng, rng.randint(2, 4)).title(),
    "text": lambda rng: some_words(rng, rng.randint(5, 9)).capitalize() + ".",
    "query": lambda rng: some_words(rng, rng.randint(2, 3)),
}
_KIND_OF: dict[str, str] = {
    **dict.fromkeys(("city", "town", "location", "destination", "origin"), "city"),
    **dict.fromkeys(("country", "nation"), "country"),
    **dict.fromkeys(("name", "author", "user", "username", "person", "owner", "customer",
                     "fullname", "assignee", "recipient", "sender"), "person"),
    **dict.fromkeys(("firstname", "given"), "first"),
    **dict.fromkeys(("lastname", "surname", "family"), "last"),
    **dict.fromkeys(("email", "mail"), "email"),
    **dict.fromkeys(("url", "uri", "link", "website", "homepage", "href"), "url"),
    **dict.fromkeys(("date", "birthday", "deadline", "due"), "date"),
    **dict.fromkeys(("datetime", "timestamp"), "datetime"),
    **dict.fromkeys(("time",), "time"),
    **dict.fromkeys(("phone", "tel", "telephone", "mobile"), "phone"),
    **dict.fromkeys(("id", "identifier", "sku"), "id"),
    **dict.fromkeys(("uuid", "guid"), "uuid"),
    **dict.fromkeys(("language", "lang", "locale"), "language"),
    **dict.fromkeys(("color", "colour"), "color"),
    **dict.fromkeys(("currency",), "currency"),
    **dict.fromkeys(("status", "state"), "status"),
    **dict.fromkeys(("address", "street"), "address"),
    **dict.fromkeys(("file", "filename", "path", "filepath"), "file"),
    **dict.fromkeys(("title", "subject", "headline", "topic", "label"), "title"),
    **dict.fromkeys(("description", "summary", "text", "content", "message", "comment",
                     "body", "note", "notes", "reason", "answer", "explanation", "prompt",
                     "instructions", "details", "feedback", "review"), "text"),
    **dict.fromkeys(("query", "q", "search", "keyword", "keywords", "term", "terms"), "query"),
}
_NUMBER_RANGES: dict[str, tuple[int, int]] = {
    "age": (18, 80), "year": (1990, 2030), "month": (1, 12), "day": (1, 28), "days": (1, 14),
    "hour": (0, 23), "hours": (1, 12), "minute": (0, 59), "minutes": (1, 60),
    "second": (0, 59), "seconds": (1, 60), "count": (1, 10), "limit": (1, 20), "n": (1, 5),
    "num": (1, 10), "quantity": (1, 10), "page": (1, 10), "size": (1, 50), "top": (1, 10),
    "k": (1, 10), "price": (1, 500), "amount": (1, 500), "cost": (1, 500),
    "lat": (-90, 90), "latitude": (-90, 90), "lon": (-180, 180), "lng": (-180, 180),
    "longitude": (-180, 180), "temperature": (-10, 35), "temp": (-10, 35),
    "percent": (0, 100), "percentage": (0, 100), "rating": (1, 5), "stars": (1, 5),
}


def text_for(name: str, rng: random.Random) -> str:
    """A string for a property called `name`: its kind's if a word of the name has one,
    else a word or two."""
    kind = next((_KIND_OF[t] for t in _tokens(name) if t in _KIND_OF), None)
    make = _TEXT_KINDS.get(kind) if kind else None
    return make(rng) if make else some_words(rng, 1 + int(rng.random() * 2))


def number_hint(name: str) -> tuple[int, int]:
    """The plausible range for a number called `name` (0..100 when the name says nothing)."""
    return next((_NUMBER_RANGES[t] for t in _tokens(name) if t in _NUMBER_RANGES), (0, 100))


@lru_cache(maxsize=1024)
def _tokens(name: str) -> tuple[str, ...]:
    """`departureCity` → ("departurecity", "city", "departure", ...): the whole name, then
    its words last-first, then their singulars."""
    parts = re.findall(r"[a-z]+|[A-Z][a-z]*|\d+", name)
    lowered = [p.lower() for p in parts]
    return ("".join(lowered), *reversed(lowered), *(singular(p) for p in reversed(lowered)))


def singular(name: str) -> str:
    """A rough English singular, so the items of `tags` read like a `tag`."""
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith(("sses", "xes", "ches", "shes")):
        return name[:-2]
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name
