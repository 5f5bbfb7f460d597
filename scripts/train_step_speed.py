"""Time one NNS2 training step (batch of 128 at 96x96, the distillation losses, Adam) with and without XLA.

Training on two CPU cores is issue 17's bottleneck, so each way of making a step cheaper is measured before it is
adopted. Both variants run in this one process on the same synthetic batch, and the ratio is printed.

    python scripts/train_step_speed.py [--steps 8] [--batch 128]
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def time_step(jit_compile: bool, batch: int, steps: int) -> tuple[float, float]:
    """(first call incl. tracing/compiling, median of `steps` further steps), in seconds."""
    import tensorflow as tf
    from tensorflow import keras

    from edgeface.models.facenet import INPUT_SIZE, build_nns2
    from edgeface.training import losses

    student = build_nns2()
    projection = keras.layers.Dense(192, use_bias=False)
    projection.build((None, 128))
    variables = student.trainable_variables + projection.trainable_variables
    optimizer = keras.optimizers.Adam(1e-4)
    optimizer.build(variables)

    def step(images, teacher):
        with tf.GradientTape() as tape:
            embeddings = student(images, training=True)
            loss = (losses.embedding_distillation_loss(projection(embeddings), teacher)
                    + losses.similarity_distillation_loss(embeddings, teacher))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    train_step = tf.function(step, jit_compile=jit_compile)
    rng = np.random.default_rng(0)
    images = rng.standard_normal((batch, INPUT_SIZE, INPUT_SIZE, 3)).astype(np.float32)
    teacher = rng.standard_normal((batch, 192)).astype(np.float32)
    teacher /= np.linalg.norm(teacher, axis=1, keepdims=True)
    start = time.perf_counter()
    train_step(images, teacher).numpy()
    first = time.perf_counter() - start
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        train_step(images, teacher).numpy()
        times.append(time.perf_counter() - start)
    return first, float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    from edgeface.runtime.cpu import describe_cpu

    print(f"cpu: {describe_cpu()}")
    results = {}
    for name, jit in (("graph (as trained)", False), ("XLA jit_compile", True)):
        first, median = time_step(jit, args.batch, args.steps)
        results[name] = median
        print(f"{name:20s} first call {first:6.1f} s, median step {median:5.2f} s ({args.batch / median:5.1f} images/s)")
    print(f"XLA / graph step time: {results['XLA jit_compile'] / results['graph (as trained)']:.2f}x")


if __name__ == "__main__":
    main()
