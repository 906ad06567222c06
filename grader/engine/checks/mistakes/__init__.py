"""The chapter's mistakes, one module per step: `MISTAKES`, each the chapter's code with one change
(grader/engine/diagnosis.py's Mistake: the cause in the kit's words, where learners make it, the
functions as the mistake writes them), and `MORE`, the further inputs a diagnosis may send to the
learner's code and to the mistakes that fit (keyed by the function's or probe's name, given the
seed and the inputs of the check's first call).

Kit code, run by the judge after a failure, never in the sandbox; imported only then (no check
module imports this package, so a passing grade never loads it).

Where learners make them (the sources each note points to):
"""

BOOK = "fastai/fastbook clean/04_mnist_basics.ipynb"  # the chapter itself: its first forms and its asides
THRESHOLD_FORUM = "https://forums.fast.ai/t/lesson-3-deciding-mnist-prediction-accuracy/100483"
LESSON3_FORUM = "https://forums.fast.ai/t/lesson-3-official-topic/96254?page=15"
THRESHOLD_ERRATUM = "https://github.com/fastai/fastbook/pull/461"
BCE_FORUM = ("https://huggingface.co/datasets/nvidia/Nemotron-CC-Math-v1 (forums.fast.ai, Part 1 2020: "
             "binary cross-entropy against mnist_loss)")
LESSON4_FORUM = ("https://huggingface.co/datasets/nvidia/Nemotron-CC-Math-v1 (forums.fast.ai, Lesson 4 official "
                 "topic: nn.Linear(28*28, 1) before the ReLU)")
LEAF_INPLACE = "https://discuss.pytorch.org/t/leaf-variable-was-used-in-an-inplace-operation/308"
BACKPROP_QA = "https://discuss.pytorch.org/t/simple-understanding-of-backprop-gradient-descent/73588"
ZERO_GRAD_QA = "https://flisks.com/python-why-do-we-need-to-call-zero-grad-in-pytorch"
LOOP_PITFALLS = "https://thecodeforge.io/ml-ai/pytorch-training-loop/"
NO_GRAD_ERROR = "https://jishuzhan.net/article/1722447953278275585"
CUT_GRAPH = "https://php.bkmy88.com/faq/1835025.html"
SOFTMAX_CE_QA = "https://ai.stackexchange.com/questions/24020"
CE_BY_HAND = ("https://kiwix.lema.org/stackoverflow.com_en_all_2023-11/questions/56335568/"
              "cross-entropy-error-remains-unchanged-for-various-values")
SEQUENTIAL_DOCS = "https://pytorch.org/docs/main/generated/torch.nn.Sequential.html"
NOTES_CH4 = "https://chrismiller.uk/jupyter/ai/fastai/coursenotes/2021/01/07/fastai-04_mnist_basics.html"
NOTES_NORMALISE = "https://hashnode-hub.vercel.app/posts/68934b7f31d348783440156a"
NOTES_SCRATCH = "https://www.medo7id.com/book/nnet-from-scratch"
KIT_SUMMARY = "the chapter's typical mistakes (the kit's own summary of the chapter), seen in learners' notebooks"
