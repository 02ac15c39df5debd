"""Pick a checkpoint for your data with hfsearch, then fine-tune it with `transformers.Trainer`.

Runs offline on the demo registry (built by `hfsearch demo`, or on first use here):

    python examples/pick_and_finetune.py --registry ./demo-registry --epochs 1

Against the Hub, drop --registry and name a Hub dataset: the same two steps apply.
"""

from __future__ import annotations

import argparse

import numpy as np
from datasets import load_dataset
from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments

import hfsearch
from hfsearch.demo import demo_dir
from hfsearch.zoo.build import build_zoo, demo_recipe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", help="local registry (default: the demo's)")
    parser.add_argument("--dataset", default="hfsearch-demo/uci_yelp")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--output", default="finetuned")
    args = parser.parse_args()

    registry = str(demo_dir(args.registry))
    build_zoo(demo_recipe(), registry)  # no-op once built

    # 1. Pick: rank the registry's checkpoints for our (unlabeled) test split.
    result = hfsearch.find(
        "text-classification", args.dataset, hub_dir=registry, labels="negative,positive",
        scores="adaptivity,confidence", samples=256, progress=False,
    )
    print(result.ranking.to_string(index=False))
    best = next(c for c in result.candidates if c.repo_id == result.best)
    path = f"{registry}/models/{best.repo_id}"
    print(f"fine-tuning {best.repo_id}")

    # 2. Fine-tune the pick on the few labels we have (the train split).
    data = load_dataset(f"{registry}/datasets/{args.dataset}")
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, use_safetensors=True)
    encoded = data.map(lambda b: tokenizer(b["text"], truncation=True, max_length=128), batched=True)

    def accuracy(pred):
        return {"accuracy": float((np.argmax(pred.predictions, axis=1) == pred.label_ids).mean())}

    trainer = Trainer(
        model=model,
        args=TrainingArguments(output_dir=args.output, num_train_epochs=args.epochs, per_device_train_batch_size=16,
                               report_to=[], save_strategy="no", use_cpu=True),
        train_dataset=encoded["train"], eval_dataset=encoded["test"], processing_class=tokenizer,
        compute_metrics=accuracy,
    )
    print("before:", trainer.evaluate())
    trainer.train()
    print("after:", trainer.evaluate())
    trainer.save_model(args.output)


if __name__ == "__main__":
    main()
