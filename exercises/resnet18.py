# Your exercise for step 'resnet18'. Replace each `raise NotImplementedError(...)` with
# your code; keep the names and signatures. Stuck? `fastgroup hint resnet18`.
"""Step 13 - going deeper with ResNet-18 (chapter section "Going Deeper").

A convolutional net with 18 layers, trained from random weights on the image files.
"""

from fastai.vision.all import F, accuracy, resnet18, vision_learner


def make_resnet_learner(dls):
    """A fastai vision learner on `dls` (from `ImageDataLoaders.from_folder`) with a
    `resnet18` body that starts from random weights (`pretrained=False`: nothing is
    downloaded), `F.cross_entropy` as its loss and `accuracy` as its metric.

    The grader calls `fit_one_cycle` on what you return.
    """
    raise NotImplementedError("resnet18: write make_resnet_learner (fastgroup hint resnet18 helps)")
