"""ILOKG_TRUSTED_PROXIES is written as uvicorn's proxy-headers middleware reads it: an entry it could not parse would
be compared as text, trusting nobody, without a word."""

from uvicorn.middleware.proxy_headers import _TrustedHosts

from server.settings import Settings


def test_each_entry_is_an_address_or_network_uvicorn_trusts() -> None:
    settings = Settings(trusted_proxies=["10.0.0.1/8", " 127.0.0.2 ", "::1", "fd00::/8"])
    assert settings.trusted_proxies == ["10.0.0.0/8", "127.0.0.2", "::1", "fd00::/8"]
    trusted = _TrustedHosts(settings.trusted_proxies)
    assert [address in trusted for address in ("10.1.2.3", "127.0.0.2", "::1", "fd00::5", "11.0.0.1", "127.0.0.1")] == [
        True, True, True, True, False, False]
