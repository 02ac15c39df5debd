"""The Space of the adaptivity measurement: paste a source and a target sample, one text per line."""

from pathlib import Path

import evaluate
import gradio as gr

module = evaluate.load(str(Path(__file__).with_name("adaptivity.py")), module_type="measurement")


def compute(source: str, target: str, tau: str) -> dict:
    rows = [[line for line in text.splitlines() if line.strip()] for text in (source, target)]
    return module.compute(source=rows[0], target=rows[1], tau=float(tau) if tau.strip() else "auto")


demo = gr.Interface(
    fn=compute,
    inputs=[
        gr.Textbox(lines=12, label="source sample (the model's training data), one text per line"),
        gr.Textbox(lines=12, label="target sample (the data to serve), one text per line"),
        gr.Textbox(value="", label="tau (empty: auto)"),
    ],
    outputs=gr.JSON(label="adaptivity"),
    title="Adaptivity",
    description=module.info.description,
)

if __name__ == "__main__":
    demo.launch()
