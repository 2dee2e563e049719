"""Who the served app answers to (the Host check) and which addresses need origins."""
import pytest

from chaoslab.app.serve import host_allowed, serve


@pytest.mark.parametrize("host", ["127.0.0.1:5006", "localhost:5006", "LOCALHOST", "[::1]:5006",
                                  "10.1.2.3:80", "lab.localhost:5006", "class.example.org:5006",
                                  "Class.Example.Org."])
def test_this_machine_ip_addresses_and_allowed_names_pass(host):
    assert host_allowed(host, ["class.example.org"])


@pytest.mark.parametrize("host", ["evil.example.com:5006", "evil.example.com",
                                  "localhost.evil.com", "127.0.0.1.evil.com:5006",
                                  "example.org", "", "class.example.org.evil.com"])
def test_other_names_are_refused(host):
    assert not host_allowed(host, ["class.example.org"])


def test_listening_everywhere_needs_named_hosts():
    with pytest.raises(ValueError, match="address '0.0.0.0'.*allow_host"):
        serve(port=5006, address="0.0.0.0", start=False)
    with pytest.raises(ValueError, match="port"):
        serve(port=70000, start=False)
