"""Chapter-4 notebooks written the ways learners write them (our own code, the book's names).

Each is a list of code cells; `write_notebook` saves one as a .ipynb (with markdown and an output
image, as Jupyter does) and `write_script` as a `# %%` script. BOOK_FLOW follows the chapter's
order with its globals and its redefinitions; the others vary it.
"""

import base64
import json
from pathlib import Path

SETUP = [
    "!pip install -Uqq fastbook\nimport fastbook\nfastbook.setup_book()",
    "from fastai.vision.all import *\nfrom fastbook import *\n\nmatplotlib.rc('image', cmap='Greys')",
    "path = untar_data(URLs.MNIST_SAMPLE)\nthrees = (path/'train'/'3').ls().sorted()\n"
    "sevens = (path/'train'/'7').ls().sorted()",
    "seven_tensors = [tensor(Image.open(o)) for o in sevens]\nthree_tensors = [tensor(Image.open(o)) for o in threes]\n"
    "stacked_sevens = torch.stack(seven_tensors).float()/255\nstacked_threes = torch.stack(three_tensors).float()/255",
    "mean3 = stacked_threes.mean(0)\nmean7 = stacked_sevens.mean(0)\nshow_image(mean3);",
]

PIXELS = [
    "def mnist_distance(a,b): return (a-b).abs().mean((-1,-2))\nmnist_distance(stacked_threes[1], mean3)",
    "def is_3(x): return mnist_distance(x,mean3) < mnist_distance(x,mean7)",
    "accuracy_3s = is_3(stacked_threes).float().mean()\naccuracy_3s",
]

LINEAR = [
    "train_x = torch.cat([stacked_threes, stacked_sevens]).view(-1, 28*28)\n"
    "train_y = tensor([1]*len(threes) + [0]*len(sevens)).unsqueeze(1)\ndset = list(zip(train_x,train_y))",
    "def init_params(size, std=1.0): return (torch.randn(size)*std).requires_grad_()",
    "weights = init_params((28*28,1))\nbias = init_params(1)",
    "def linear1(xb): return xb@weights + bias\npreds = linear1(train_x)",
    "def mnist_loss(predictions, targets):\n    return torch.where(targets==1, 1-predictions, predictions).mean()",
    "def sigmoid(x): return 1/(1+torch.exp(-x))",
    "def mnist_loss(predictions, targets):\n    predictions = predictions.sigmoid()\n"
    "    return torch.where(targets==1, 1-predictions, predictions).mean()",
    "dl = DataLoader(dset, batch_size=256)\nvalid_dl = DataLoader(dset, batch_size=256)",
    "def calc_grad(xb, yb, model):\n    preds = model(xb)\n    loss = mnist_loss(preds, yb)\n    loss.backward()",
    "def train_epoch(model, lr, params):\n    for xb,yb in dl:\n        calc_grad(xb, yb, model)\n"
    "        for p in params:\n            p.data -= p.grad*lr\n            p.grad.zero_()",
    "def batch_accuracy(xb, yb):\n    preds = xb.sigmoid()\n    correct = (preds>0.5) == yb\n"
    "    return correct.float().mean()",
    "def validate_epoch(model):\n    accs = [batch_accuracy(model(xb), yb) for xb,yb in valid_dl]\n"
    "    return round(torch.stack(accs).mean().item(), 4)",
    "lr = 1.\nparams = weights,bias\nfor i in range(20):\n    train_epoch(linear1, lr, params)\n"
    "    print(validate_epoch(linear1), end=' ')",
]

OPTIMIZER = [
    "linear_model = nn.Linear(28*28,1)",
    "class BasicOptim:\n    def __init__(self,params,lr): self.params,self.lr = list(params),lr\n\n"
    "    def step(self, *args, **kwargs):\n        for p in self.params: p.data -= p.grad.data * self.lr\n\n"
    "    def zero_grad(self, *args, **kwargs):\n        for p in self.params: p.grad = None",
    "opt = BasicOptim(linear_model.parameters(), lr)",
    "def train_epoch(model):\n    for xb,yb in dl:\n        calc_grad(xb, yb, model)\n        opt.step()\n"
    "        opt.zero_grad()",
    "def train_model(model, epochs):\n    for i in range(epochs):\n        train_epoch(model)\n"
    "        print(validate_epoch(model), end=' ')",
    "linear_model = nn.Linear(28*28,1)\nopt = SGD(linear_model.parameters(), lr)\ntrain_model(linear_model, 20)",
    "dls = DataLoaders(dl, valid_dl)\nlearn = Learner(dls, nn.Linear(28*28,1), opt_func=SGD,\n"
    "                loss_func=mnist_loss, metrics=batch_accuracy)",
    "learn.fit(10, lr=lr)",
]

NONLINEAR = [
    "def simple_net(xb):\n    res = xb@w1 + b1\n    res = res.max(tensor(0.0))\n    res = res@w2 + b2\n    return res",
    "w1 = init_params((28*28,30))\nb1 = init_params(30)\nw2 = init_params((30,1))\nb2 = init_params(1)",
    "simple_net = nn.Sequential(\n    nn.Linear(28*28,30),\n    nn.ReLU(),\n    nn.Linear(30,1)\n)",
    "learn = Learner(dls, simple_net, opt_func=SGD,\n"
    "                loss_func=mnist_loss, metrics=batch_accuracy)\nlearn.fit(40, 0.1)",
    "dls = ImageDataLoaders.from_folder(path)\nlearn = cnn_learner(dls, resnet18, pretrained=False,\n"
    "                    loss_func=F.cross_entropy, metrics=accuracy)\nlearn.fit_one_cycle(1, 0.1)",
]

BOOK_FLOW = SETUP + PIXELS + LINEAR + OPTIMIZER + NONLINEAR

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 64).decode()


def notebook_json(cells: list[str], output_bytes: int = 0) -> dict:
    """A notebook as Jupyter saves it: a markdown cell first, code cells, one with an image output."""
    out = [{"output_type": "display_data", "data": {"image/png": PNG * max(1, output_bytes // len(PNG))},
            "metadata": {}}]
    doc = [{"cell_type": "markdown", "metadata": {}, "source": ["# Chapter 4, my way\n"]}]
    for n, text in enumerate(cells):
        lines = text.splitlines(keepends=True)
        doc.append({"cell_type": "code", "execution_count": n + 1, "metadata": {},
                    "outputs": out if n == 4 else [], "source": lines})
    return {"cells": doc, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
            "nbformat": 4, "nbformat_minor": 5}


def write_notebook(path: Path, cells: list[str], output_bytes: int = 0) -> Path:
    path.write_text(json.dumps(notebook_json(cells, output_bytes)))
    return path


def write_script(path: Path, cells: list[str]) -> Path:
    """A notebook exported as a script: `# In[ ]:` between cells, as Jupyter's nbconvert writes."""
    path.write_text("#!/usr/bin/env python\n# coding: utf-8\n\n" +
                    "".join(f"# In[{n}]:\n\n\n{text}\n\n\n" for n, text in enumerate(cells, 1)))
    return path


# ---------------------------------------------------------------- learners' own styles (issue 38)
# Each is small: a few steps, written the way published learner notebooks write the chapter.

OWN_DATA = [  # `from fastbook import *` only; the data through the book's untar_data
    "#hide\n!pip install -Uqq fastbook\nimport fastbook\nfastbook.setup_book()",
    "from fastbook import *",
    "path = untar_data(URLs.MNIST_SAMPLE)\nPath.BASE_PATH = path\nthrees = (path/'train'/'3').ls().sorted()\n"
    "sevens = (path/'train'/'7').ls().sorted()",
    "stacked_threes = torch.stack([tensor(Image.open(o)) for o in threes]).float()/255\n"
    "stacked_sevens = torch.stack([tensor(Image.open(o)) for o in sevens]).float()/255",
]

OWN_NAMES = OWN_DATA + [  # its own global names: ideal_three (run on the kit's data), w and b (the kit's)
    "ideal_three = stacked_threes.mean(0)\nideal_seven = stacked_sevens.mean(0)\nshow_image(ideal_three)",
    "def mnist_distance(a, b): return (a - b).abs().mean((-1, -2))",
    "def is_3(x): return mnist_distance(x, ideal_three) < mnist_distance(x, ideal_seven)",
    "def init_params(size, std=1.0): return (tensor(torch.randn(size)) * std).requires_grad_()",
    "w = init_params((28*28, 1))\nb = init_params(1)",
    "def linear1(xb): return xb @ w + b",
]

OWN_LOADERS = [  # its own loader names and argument orders, a fastai2 import (fastai's 2020 preview)
    "from fastai2.vision.all import *",
    "def mnist_loss(preds, targets):\n    preds = preds.sigmoid()\n"
    "    return torch.where(targets == 1, 1 - preds, preds).mean()",
    "def batch_accuracy(xb, yb):\n    return ((xb.sigmoid() > tensor(0.5)) == yb).float().mean()",  # fastai's tensor
    "train_dl = DataLoader(list(zip(tensor([[0.0]]), tensor([[1.0]]))), batch_size=256)\n"
    "valid_loader = DataLoader(list(zip(tensor([[0.0]]), tensor([[1.0]]))), batch_size=256)",
    "def calc_grad(xb, yb, model):\n    loss = mnist_loss(model(xb), yb)\n    loss.backward()",
    "def train_epoch(train_dl, model, optimizer):\n    for xb, yb in train_dl:\n        calc_grad(xb, yb, model)\n"
    "        optimizer.step()\n        optimizer.zero_grad()",
    "def validate_epoch(valid_dl, model):\n    accs = [batch_accuracy(model(xb), yb) for xb, yb in valid_dl]\n"
    "    return round(torch.stack(accs).mean().item(), 4)",
]

HIDDEN_BUG = [  # correct code, and one real bug behind a renamed global: validating on the training loader
    "from fastai.vision.all import *",
    "def batch_accuracy(xb, yb):\n    return ((xb.sigmoid() > 0.5) == yb).float().mean()",
    "trn_dl = DataLoader(list(zip(tensor([[0.0]]), tensor([[1.0]]))), batch_size=256)",
    "def validate_epoch(model):\n    accs = [batch_accuracy(model(xb), yb) for xb, yb in trn_dl]\n"
    "    return round(torch.stack(accs).mean().item(), 4)",
]
