"""adv_kt installs beside the torch a user already has: torch is a range in the package's requirements, and CI's exact
versions live in a constraints file that the README's test command passes to pip."""
import configparser, shlex
from importlib.metadata import requires
from pathlib import Path
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]

def torch_req()->Requirement:
    return next(Requirement(r) for r in requires('adv_kt') if Requirement(r).name == 'torch')

def test_torch_is_a_range_that_keeps_a_users_cuda_build():
    spec = torch_req().specifier
    for v in ('2.11.0', '2.11.0+cu128', '2.13.0', '2.14.1', '2.99'): assert spec.contains(v), v
    for v in ('2.10.0', '3.0.0'): assert not spec.contains(v), v
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini')
    assert Requirement(cfg['DEFAULT']['torch_requirement']).specifier == spec     # the installed metadata is current

def test_ci_pins_exact_versions_through_a_constraints_file():
    pins = {Requirement(l).name: Requirement(l) for l in (ROOT/'tools'/'constraints.txt').read_text().splitlines()
            if l.strip() and not l.startswith('#')}
    assert all(len(r.specifier) == 1 and next(iter(r.specifier)).operator == '==' for r in pins.values())
    assert str(pins['torch'].specifier) == '==2.13.0' and torch_req().specifier.contains('2.13.0')
    assert {'nbdev', 'execnb', 'fastcore', 'ray', 'numpy'} <= set(pins)
    check = (ROOT/'tools'/'check.sh').read_text()
    assert any('pip install' in l and '-c tools/constraints.txt' in shlex.split(l.split('#')[0]) or
               ('pip install' in l and '-c tools/constraints.txt' in l) for l in check.splitlines())
