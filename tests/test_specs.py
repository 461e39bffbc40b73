import pytest

from tabbench.core.errors import TabbenchError
from tabbench.core.specs import Spec, parse_specs, parse_value


def test_options_after_a_name_belong_to_it_and_a_bare_name_starts_a_new_spec():
    specs = parse_specs(["xgboost:n_estimators=2000,max_depth=6,logreg", "pixel:layout=square"])
    assert [s.name for s in specs] == ["xgboost", "logreg", "pixel"]
    assert specs[0].options == {"n_estimators": 2000, "max_depth": 6}
    assert specs[1].options == {}
    assert specs[2].options == {"layout": "square"}


def test_values_are_typed():
    assert parse_value("3") == 3 and isinstance(parse_value("3"), int)
    assert parse_value("0.5") == 0.5
    assert parse_value("True") is True and parse_value("false") is False
    assert parse_value("viridis") == "viridis"


def test_paths_are_names():
    specs = parse_specs(["data/x.csv:target=y,iris"])
    assert specs == [Spec("data/x.csv", {"target": "y"}), Spec("iris")]


def test_a_bare_value_after_the_name_is_the_positional_option():
    (spec,) = parse_specs(["timm:convnext_tiny,pretrained=true"])
    assert spec.name == "timm" and spec.options == {"": "convnext_tiny", "pretrained": True}


@pytest.mark.parametrize("bad", ["rows=5", "adult:=3", ":x=1", "adult:rows=3,=4"])
def test_malformed_specs_are_rejected(bad):
    with pytest.raises(TabbenchError):
        parse_specs([bad])


def test_bool_options_take_the_usual_spellings_and_errors_read_well():
    from tabbench.core.registry import registry

    backbone = registry().get("backbones", "resnet18")
    for text, expected in [("true", True), ("1", True), ("yes", True), ("On", True),
                           ("false", False), ("0", False), ("no", False), ("off", False)]:  # fmt: skip
        (spec,) = parse_specs([f"resnet18:pretrained={text}"])
        assert backbone.resolve_options(spec.options)["pretrained"] is expected
    (spec,) = parse_specs(["resnet18:pretrained=maybe"])
    with pytest.raises(TabbenchError, match=r"pretrained='maybe' must be true or false$"):
        backbone.resolve_options(spec.options)
    logreg = registry().get("baselines", "logreg")
    with pytest.raises(TabbenchError) as info:
        logreg.resolve_options({"max_iters": 3})
    message = str(info.value)
    assert message == (
        "baseline 'logreg' has no option 'max_iters' (did you mean max_iter?); valid options: C, max_iter"
    )
