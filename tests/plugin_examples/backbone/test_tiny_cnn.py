import pytest
import torch
from tabbench_tiny_cnn import TinyCNN

from tabbench import TabbenchError
from tabbench.testing import parametrize_with_checks


def test_pretrained_weights_come_from_the_weights_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TABBENCH_WEIGHTS_DIR", str(tmp_path))  # what --weights-dir sets
    with pytest.raises(TabbenchError, match=r"put tiny_cnn_8\.safetensors"):
        TinyCNN(width=8, pretrained=True).check_ready()
    saved = TinyCNN(width=8).build(num_classes=2, in_chans=3, img_size=16).body
    torch.save(saved.state_dict(), tmp_path / "tiny_cnn_8.pth")
    TinyCNN(width=8, pretrained=True).check_ready()
    net = TinyCNN(width=8, pretrained=True).build(num_classes=5, in_chans=1, img_size=16)
    assert torch.equal(net.body[0].weight, saved[0].weight.sum(dim=1, keepdim=True))
    assert net(torch.zeros(2, 1, 16, 16)).shape == (2, 5)


@parametrize_with_checks([TinyCNN, (TinyCNN, {"width": 4})])
def test_tiny_cnn_keeps_tabbenchs_contract(check):
    check()
