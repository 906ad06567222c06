"""The kit's image loaders decode each digit once, not once an epoch.

fastai's DataLoader opens, decodes and converts every image file again in every epoch: a fifth of
ResNet-18's run on the 800 embedded digits (bench/RESULTS.md). The loaders the kit builds for the
resnet18 step have no random item transform, so an item comes out the same every time: keeping
it after the first epoch changes no batch, while the shuffle and the batch transforms run as before.
"""

import functools


@functools.cache
def decoded_once_dl():
    """fastai's TfmdDL keeping each item it made, by index; a loader that `new` derives from it
    (another data set, a test set) keeps its own."""
    from fastai.data.core import TfmdDL

    class DecodedOnceDL(TfmdDL):
        def do_item(self, s):
            kept = self.__dict__.setdefault("_kept_items", {})
            if s not in kept:
                kept[s] = super().do_item(s)
            return kept[s]

    return DecodedOnceDL
