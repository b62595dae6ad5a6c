"""Domains that are valid but never a company's own: public mailbox services and web platforms.

"info.firma@gmail.com" in the e-mail column or a Facebook page in the website column would make
gmail.com / facebook.com a lead, and merge every such row into one company. Such rows are
rejected with their own reason instead, so the user sees why.
"""

from __future__ import annotations

from typing import Final

# Mailbox services where anyone can get an address (and the Turkish KEP registered-mail hosts).
# fmt: off
FREE_MAIL: Final[frozenset[str]] = frozenset(
    {
        "gmail.com", "googlemail.com", "hotmail.com", "hotmail.com.tr", "hotmail.co.uk", "hotmail.de",
        "hotmail.fr", "outlook.com", "outlook.com.tr", "outlook.de", "live.com", "live.co.uk", "msn.com",
        "windowslive.com", "yahoo.com", "yahoo.com.tr", "yahoo.co.uk", "yahoo.de", "ymail.com",
        "rocketmail.com", "yandex.com", "yandex.com.tr", "yandex.ru", "yandex.ua", "ya.ru", "mail.ru",
        "mynet.com", "superonline.com", "ttmail.com", "e-kolay.net", "turk.net", "mail.com", "email.com",
        "gmx.com", "gmx.de", "gmx.net", "web.de", "aol.com", "icloud.com", "me.com", "mac.com",
        "protonmail.com", "proton.me", "pm.me", "tutanota.com", "zoho.com", "zohomail.com", "yopmail.com",
        "qq.com", "163.com", "126.com", "inbox.com", "hushmail.com", "kep.tr",
    }
)
# fmt: on
# Websites on a platform: a profile, shop or free site builder page, not the company's domain.
# fmt: off
SHARED_HOSTS: Final[frozenset[str]] = frozenset(
    {
        "facebook.com", "fb.com", "instagram.com", "linkedin.com", "twitter.com", "x.com",
        "youtube.com", "youtu.be", "tiktok.com", "pinterest.com", "whatsapp.com", "wa.me", "t.me",
        "google.com", "google.com.tr", "goo.gl", "g.page", "business.site", "blogspot.com",
        "wordpress.com", "wixsite.com", "wix.com", "weebly.com", "jimdo.com", "jimdofree.com",
        "webnode.com", "webnode.com.tr", "tumblr.com", "godaddysites.com", "github.io", "linktr.ee",
        "bit.ly", "sahibinden.com", "trendyol.com", "hepsiburada.com", "n11.com", "amazon.com",
        "amazon.com.tr", "alibaba.com", "etsy.com", "ebay.com", "foursquare.com", "tripadvisor.com",
        "yelp.com",
    }
)
# fmt: on


def _under(domain: str, names: frozenset[str]) -> str | None:
    if domain in names:
        return domain
    parts = domain.split(".")
    for i in range(1, len(parts) - 1):
        parent = ".".join(parts[i:])
        if parent in names:
            return parent
    return None


def not_company_domain(domain: str, *, email: bool) -> tuple[str, str] | None:
    """(reason, message) when ``domain`` cannot be the company's own domain, else None."""
    mail = _under(domain, FREE_MAIL)
    if mail is not None:
        if mail == "kep.tr":
            return (
                "free_mail",
                f"{domain!r} is a KEP (registered e-mail) provider, not the company's domain",
            )
        what = "address" if email else "website"
        return ("free_mail", f"the {what} is at the public mail service {mail!r}, not the company's domain")
    host = _under(domain, SHARED_HOSTS)
    if host is not None:
        return (
            "shared_host",
            f"{host!r} is a shared platform (profile or shop page), not the company's domain",
        )
    return None
