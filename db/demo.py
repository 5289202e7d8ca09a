"""Fixed identities of the demo data, so the app, the tests and the docs can name them.

UUIDs are derived from names (uuid5), so they are the same on every machine and every seed.
"""
from __future__ import annotations

from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5


def demo_uuid(name: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"https://dokani.example/demo/{name}")


@dataclass(frozen=True)
class DemoBusiness:
    key: str
    name: str
    website: str
    plan: str

    @property
    def business_id(self) -> UUID:
        return demo_uuid(f"business/{self.key}")

    @property
    def owner_id(self) -> UUID:  # profiles.id is the owner's auth.users.id
        return demo_uuid(f"user/{self.key}/owner")


@dataclass(frozen=True)
class DemoUser:
    business_key: str
    slug: str
    role: str
    display_name: str

    @property
    def user_id(self) -> UUID:
        return demo_uuid(f"user/{self.business_key}/{self.slug}")

    @property
    def email(self) -> str:
        return f"{self.slug}@{self.business_key}.example"


BUSINESSES = [
    DemoBusiness("atlas", "Atlas Outfitters", "https://atlas-outfitters.example", "pro"),
    DemoBusiness("bloom", "Bloom & Gather Home", "https://bloom-gather.example", "growth"),
    DemoBusiness("cobalt", "Cobalt Electronics", "https://cobalt-electronics.example", "free"),
    DemoBusiness("dune", "Dune Surf Co.", "https://dune-surf.example", "free"),
]

ROLES = [("owner", "owner", "Owner"), ("admin", "admin", "Policy admin"), ("reviewer", "reviewer", "Reviewer"),
         ("tester", "tester", "Persona tester")]
# The first demo business also has a read-only viewer, so every role can be tried in it.
FIRST_BUSINESS_ROLES = ROLES + [("viewer", "viewer", "Viewer")]

# Every demo account's password (listed on the sign-in page only when the database is the embedded demo one).
DEMO_PASSWORD = "dokani-demo"


def roles_of(key: str) -> list[tuple[str, str, str]]:
    return FIRST_BUSINESS_ROLES if key == BUSINESSES[0].key else ROLES


def business(key: str) -> DemoBusiness:
    return next(b for b in BUSINESSES if b.key == key)


def users_of(key: str) -> list[DemoUser]:
    return [DemoUser(key, slug, role, f"{label} ({business(key).name})") for slug, role, label in roles_of(key)]


def user(key: str, slug: str) -> DemoUser:
    return next(u for u in users_of(key) if u.slug == slug)
