"""`edgeface convert`: export MTCNN and the NNS2 FaceNet to TFLite variants, write manifest.json, measure drops.

Files are named `<role>[_<H>x<W>]_<variant>.tflite`. Every file is written atomically and the manifest last,
so a folder with a manifest is complete. Agreement with the float reference is measured on LFW pair images
(never used for calibration) and recorded per model in the manifest; `edgeface eval --compare` runs the
full 6,000-pair protocol.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgeface.calibration.lfw_sets import (CalibrationConfig, aligned_faces, central_faces, compose_frames, describe,
                                           draw, facenet_inputs, liveness_inputs, pnet_levels, stage_crops)
from edgeface.converters.clipped_ranges import clipped_ranges, ranged_export_net
from edgeface.converters.equalize import STRENGTH, activation_ranges, equalize
from edgeface.converters.qat import QatConfig
from edgeface.converters.quantize import convert, name_outputs, tensor_infos
from edgeface.console import progress, quiet_terminal, stage
from edgeface.runtime.fileio import atomic_write_bytes, atomic_write_text
from edgeface.runtime.cascade import CascadeConfig
from edgeface.runtime.manifest import MANIFEST_NAME, Manifest, ModelEntry, sha256_bytes
from edgeface.runtime.errors import EdgefaceError

MTCNN_PREPROCESSING = ("RGB, (x - 127.5) / 128; P-Net on area-resized pyramid levels, R/O-Net on bilinear box crops; "
                       "the face output is 2 logits (non-face, face): the runtime takes their softmax in float")
EQUALIZED = ("channels equalized on these inputs before export (edgeface.converters.equalize, strength "
             f"{STRENGTH}; the float function is unchanged)")
OUTPUT_MEANINGS = {"pnet": {2: "logits", 4: "offsets"}, "rnet": {2: "logits", 4: "offsets"},
                   "onet": {2: "logits", 4: "offsets", 10: "landmarks"}, "facenet": {128: "embedding"},
                   "liveness_v2": {3: "logits"}, "liveness_v1se": {3: "logits"}}
MINIFASNET_SOURCE = "minivision-ai/Silent-Face-Anti-Spoofing MiniFASNet weights (Apache-2.0), edgeface/weights/minifasnet.npz"


@dataclass
class ConvertConfig:
    out_dir: Path = Path("models")
    variants: tuple[str, ...] = ("fp32", "fp16", "dynamic", "int8", "edgetpu")
    input_sizes: tuple[tuple[int, int], ...] = ((640, 480), (250, 250))  # (width, height): camera, LFW
    min_face_size: float = 20.0
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    agreement_images: int = 300
    lfw_root: Path | None = None
    onnx: Path | None = None  # FaceNet from this ONNX file (via onnx2tf) instead of the shipped NNS2 weights
    qat: QatConfig | None = None  # int8/edgetpu FaceNet from quantization-aware training instead of post-training
    qat_images: int = 1000  # LFW images (not in pairs.txt) whose faces the QAT fine-tune runs on
    mtcnn_range_clip: float = 0.0  # > 0: int8 MTCNN ranges leave this fraction out per end (clipped_ranges.CLIP)
    split_prelu: bool = True  # CPU int8 MTCNN: PReLU as two ReLU halves XNNPACK runs in int8 (converters/split_prelu);
    # not with mtcnn_range_clip, whose fixed ranges are written for the PRELU graph


def parse_sizes(texts: list[str]) -> tuple[tuple[int, int], ...]:
    """`--input-size` values, "WxH" each, as (width, height) pairs."""
    from edgeface.runtime.errors import UsageError

    sizes = []
    for text in texts:
        try:
            width, height = (int(v) for v in text.lower().split("x"))
        except ValueError:
            raise UsageError(f"--input-size takes WxH, e.g. 640x480 (got {text!r})") from None
        sizes.append((width, height))
    return tuple(sizes)


def representative(samples: list[np.ndarray] | np.ndarray):
    def generator():
        for sample in samples:
            yield [np.asarray(sample, np.float32)[None]]
    return generator


class Exporter:
    def __init__(self, config: ConvertConfig, out: Path | None = None, log=print) -> None:
        """`out`: where files go, default `config.out_dir` (convert_models gives a staging folder and publishes
        it once complete)."""
        from edgeface.lfw import locate_lfw

        self.config = config
        self.log = log
        self.root = locate_lfw(config.lfw_root)
        self.out = Path(out or config.out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.entries: list[ModelEntry] = []
        self.cascade = CascadeConfig(min_face_size=config.min_face_size)
        self.facenet_reference = None  # float embedder (model inputs → raw vectors) the exports are measured against
        self.facenet_input_size = 0
        self.facenet_source = ""
        self._agreement: tuple[np.ndarray, np.ndarray] | None = None  # see agreement_set()
        self._picked: list | None = None  # see picked_faces()
        self._calibration_faces: list | None = None  # see calibration_faces()
        self._float_liveness: np.ndarray | None = None  # float live scores of picked_faces()

    def write_model(self, role: str, variant: str, model_bytes: bytes, stem: str, preprocessing: str,
                    calibration: str | None) -> ModelEntry:
        file = f"{stem}_{variant}.tflite"
        atomic_write_bytes(self.out / file, model_bytes)
        inputs, outputs = tensor_infos(model_bytes)
        meanings = OUTPUT_MEANINGS[role.replace("_dynamic", "")]
        if role == "facenet":  # any embedding width (an ONNX import need not be 128-D)
            meanings = {int(outputs[0].shape[-1]): "embedding"} if len(outputs) == 1 else meanings
        entry = ModelEntry(role=role, variant=variant, file=file, sha256=sha256_bytes(model_bytes),
                           bytes=len(model_bytes), inputs=inputs, outputs=name_outputs(outputs, meanings),
                           preprocessing=preprocessing, calibration=calibration, source=self.source(role))
        self.entries.append(entry)
        return entry

    def source(self, role: str) -> str:
        if role == "facenet":
            return self.facenet_source
        return MINIFASNET_SOURCE if role.startswith("liveness") else "PyPI mtcnn 1.0.0 weights"

    def export_variants(self, role: str, model, stem: str, samples, preprocessing: str, calibration: str,
                        int8_model=None, show_progress: bool = True, split_int8: bool = False) -> None:
        """Every configured variant of `model`; int8 and edgetpu from `int8_model` when given (it carries fixed
        int8 ranges, see converters/clipped_ranges.py); with `split_int8` (and no `int8_model`) the CPU int8
        export has its PReLUs split for XNNPACK (converters/split_prelu.py); the edgetpu one keeps PRELU."""
        from edgeface.converters.split_prelu import SPLIT_NOTE, split_prelu

        variants = self.config.variants
        for variant in progress(variants, f"{stem}: variants", unit="models") if show_progress else variants:
            quantized = variant in ("int8", "edgetpu")
            source = int8_model if quantized and int8_model is not None else model
            how = calibration
            if variant == "int8" and split_int8 and int8_model is None:
                source, how = split_prelu(model), f"{calibration}; {SPLIT_NOTE}"
            data = convert(source, variant, representative(samples) if quantized else None)
            entry = self.write_model(role, variant, data, stem, preprocessing, how if quantized else None)
            if variant == "edgetpu":
                entry.edgetpu = compile_edgetpu(self.out / entry.file)

    # --- MTCNN -----------------------------------------------------------------------------------
    def export_mtcnn(self) -> None:
        from edgeface.models import mtcnn as mtcnn_models

        arrays = mtcnn_models.load_weight_arrays()
        float_nets = mtcnn_models.KerasMtcnnNets(arrays)
        with stage(f"MTCNN calibration: {self.config.calibration.images} LFW images, "
                   f"frames {', '.join(f'{w}x{h}' for w, h in self.config.input_sizes)}"):
            names = draw(self.root, self.config.calibration)
            levels_by_size, frames_all = {}, []
            for width, height in self.config.input_sizes:
                frames = compose_frames(self.root, names, (width, height), self.config.calibration.seed)
                frames_all += frames
                levels_by_size[(width, height)] = pnet_levels(frames, self.cascade)
            crops = stage_crops(frames_all, float_nets, self.cascade, self.config.calibration.max_crops,
                                self.config.calibration.seed)
        # One set of equalized weights per net, from all its calibration inputs; every export (fp32 included)
        # uses them, so the files differ from the float reference only by what each variant quantizes.
        inputs = {"pnet": [np.stack(s) for levels in levels_by_size.values() for s in levels.values()],
                  "rnet": [crops["rnet"]], "onet": [crops["onet"]]}
        for net, batches in progress(inputs.items(), "MTCNN: equalizing channel ranges", unit="nets"):
            arrays = equalize(net, arrays, activation_ranges(net, arrays, batches))
        ranges, clipped = {}, ""
        if self.config.mtcnn_range_clip > 0:
            ranges = {net: clipped_ranges(net, arrays, batches, self.config.mtcnn_range_clip)
                      for net, batches in progress(inputs.items(), "MTCNN: clipped int8 ranges", unit="nets")}
            clipped = (f"; int8 ranges leave {self.config.mtcnn_range_clip:g} of these values out at each end "
                       "(edgeface.converters.clipped_ranges)")

        def int8_net(net: str, *size: int):
            return ranged_export_net(net, arrays, ranges[net], *size) if ranges else None

        for (width, height), levels in levels_by_size.items():
            self.log(f"P-Net {width}x{height}: {len(levels)} pyramid levels")
            for (level_h, level_w), samples in progress(sorted(levels.items(), reverse=True),
                                                        f"P-Net {width}x{height}: pyramid levels", unit="levels"):
                model = mtcnn_models.build_export_net("pnet", arrays, level_h, level_w)
                self.export_variants("pnet", fixed_batch(model), f"pnet_{level_h}x{level_w}", samples,
                                     MTCNN_PREPROCESSING,
                                     describe(self.config.calibration, f"{width}x{height} frames, pyramid level "
                                                                       f"{level_h}x{level_w} ({len(samples)} levels)"
                                                                       f"; {EQUALIZED}{clipped}"),
                                     int8_net("pnet", level_h, level_w), show_progress=False,
                                     split_int8=self.config.split_prelu)
        dynamic = mtcnn_models.build_export_net("pnet", arrays)
        self.write_model("pnet_dynamic", "fp32", convert(fixed_batch(dynamic), "fp32"), "pnet_dynamic",
                         MTCNN_PREPROCESSING, None)
        for role in ("rnet", "onet"):
            self.log(f"{role}: {len(crops[role])} calibration crops")
            self.export_variants(role, fixed_batch(mtcnn_models.build_export_net(role, arrays)), role, crops[role],
                                 MTCNN_PREPROCESSING,
                                 describe(self.config.calibration, f"{len(crops[role])} candidate crops of the "
                                                                   f"float cascade on the calibration frames; "
                                                                   f"{EQUALIZED}{clipped}"),
                                 int8_net(role), split_int8=self.config.split_prelu)

    # --- FaceNet -------------------------------------------------------------------------------
    def export_facenet(self) -> None:
        if self.config.onnx is not None:
            return self.export_facenet_from_onnx(self.config.onnx)
        from edgeface.models.facenet import INPUT_SIZE, PREPROCESSING, FloatFaceNet, build_nns2
        from edgeface.runtime.align import embedder_input
        from edgeface.weights import checked_path, recorded_sums
        from tensorflow import keras

        model = build_nns2()
        model.load_weights(str(checked_path("nns2_facenet.weights.h5")))
        # Export up to the 128-D embedding: TFLite lowers the L2 normalisation to float ops (a float island in an
        # int8 graph, off the Edge TPU); the runtime normalises in numpy instead.
        model = keras.Model(model.input, model.get_layer("flatten").output, name="nns2_facenet")
        self.facenet_source = f"edgeface NNS2 FaceNet weights, sha256 {recorded_sums()['nns2_facenet.weights.h5']}"
        float_facenet = FloatFaceNet()
        self.facenet_reference = lambda faces: float_facenet.embed(faces)
        self.facenet_input_size = INPUT_SIZE
        with stage(f"FaceNet calibration: faces of {self.config.calibration.images} LFW images"):
            samples = embedder_input(aligned_faces(self.calibration_faces()), INPUT_SIZE)
        preprocessing = PREPROCESSING + "; output: the raw 128-D embedding, L2-normalise it"
        calibration = describe(self.config.calibration, f"{len(samples)} aligned faces")
        self.export_variants("facenet", fixed_batch(model), "facenet", samples, preprocessing, calibration)
        if self.config.qat is not None and {"int8", "edgetpu"} & set(self.config.variants):
            self.export_facenet_qat(model, samples, preprocessing, calibration)

    def export_facenet_qat(self, model, samples: np.ndarray, preprocessing: str, calibration: str) -> None:
        """Replace the post-training int8/edgetpu FaceNet by quantization-aware-trained ones; the post-training
        model's agreement with float stays in the entry (`accuracy.post_training`) so both are reported."""
        from edgeface.calibration.lfw_sets import CalibrationConfig
        from edgeface.converters.qat import quantization_aware
        from edgeface.detector import FloatDetector

        post_training = {}
        for entry in [e for e in self.entries if e.role == "facenet" and e.variant in ("int8", "edgetpu")]:
            if entry.variant == "int8":
                post_training = self.facenet_agreement(entry)
                self.log(f"FaceNet int8 post-training vs float: {json.dumps(post_training)}")
            self.entries.remove(entry)
        qat = self.config.qat
        pool = CalibrationConfig(images=self.config.qat_images, seed=self.config.calibration.seed + 1)
        inputs = facenet_inputs(self.root, draw(self.root, pool), FloatDetector(self.cascade))
        self.log(f"QAT: {qat.steps} steps of {qat.batch_size} on {len(inputs)} LFW faces (+ mirror images)")
        trained = quantization_aware(model, inputs, qat, self.log)
        how = (f"; quantization-aware training: {qat.steps} steps x {qat.batch_size}, Adam {qat.learning_rate:g}, "
               f"self-distillation on {describe(pool, f'{len(inputs)} aligned faces')}")
        for variant in ("int8", "edgetpu"):
            if variant in self.config.variants:
                data = convert(trained, variant, representative(samples))
                entry = self.write_model("facenet", variant, data, "facenet", preprocessing, calibration + how)
                entry.accuracy["post_training"] = post_training
                if variant == "edgetpu":
                    entry.edgetpu = compile_edgetpu(self.out / entry.file)

    def export_facenet_from_onnx(self, onnx_path: Path) -> None:
        """FaceNet from an ONNX file: onnx2tf → SavedModel → the same variants, measured against the SavedModel."""
        import tempfile

        from edgeface.calibration.lfw_sets import facenet_faces
        from edgeface.converters.onnx_import import SavedModelEmbedder, onnx_to_saved_model
        from edgeface.detector import FloatDetector
        from edgeface.runtime.align import embedder_input
        from edgeface.weights import sha256_file

        names = draw(self.root, self.config.calibration)
        faces = facenet_faces(self.root, names, FloatDetector(self.cascade))
        work = Path(tempfile.mkdtemp(prefix="edgeface-onnx-"))
        try:
            saved = onnx_to_saved_model(Path(onnx_path), work, faces)
            reference = SavedModelEmbedder(saved)
            self.log(f"ONNX {onnx_path}: {reference.input_size}x{reference.input_size} input, {reference.dim}-D output")
            self.facenet_source = f"ONNX {Path(onnx_path).name}, sha256 {sha256_file(Path(onnx_path))}, via onnx2tf"
            self.facenet_input_size = reference.input_size
            self.facenet_reference = lambda crops: reference(embedder_input(crops, reference.input_size))
            samples = embedder_input(faces, reference.input_size)
            self.export_variants("facenet", str(saved), "facenet", samples,
                                 f"RGB, 5-point alignment to the 112x112 template, area-resized to "
                                 f"{reference.input_size}x{reference.input_size}, (x - 127.5) / 128; output: the raw "
                                 f"{reference.dim}-D embedding, L2-normalise it",
                                 describe(self.config.calibration, f"{len(samples)} aligned faces"))
        finally:
            shutil.rmtree(work, ignore_errors=True)

    # --- anti-spoofing (MiniFASNet) ------------------------------------------------------------------
    def export_liveness(self) -> None:
        from edgeface.models import minifasnet

        arrays = minifasnet.load_weight_arrays()
        with stage(f"MiniFASNet calibration: faces of {self.config.calibration.images} LFW images"):
            samples = liveness_inputs(self.calibration_faces())
        for role in minifasnet.NETS:
            calibration = describe(self.config.calibration, f"{len(samples[role])} context crops of their faces")
            self.export_variants(role, fixed_batch(minifasnet.build(role, arrays)), role, samples[role],
                                 minifasnet.PREPROCESSING, calibration, show_progress=False)

    # --- agreement with the float reference ------------------------------------------------------
    def agreement_images(self) -> list[np.ndarray]:
        from edgeface import lfw
        from edgeface.runtime.images import read_rgb

        names = lfw.pair_images(lfw.parse_pairs(self.root / "pairs.txt"))
        step = max(1, len(names) // max(1, self.config.agreement_images))
        return [read_rgb(self.root / lfw.IMAGES_SUBDIR / n) for n in names[::step][: self.config.agreement_images]]

    def measure(self) -> None:
        """Record, per variant, detector agreement (LFW pair images) and embedding cosine vs float."""
        from edgeface.agreement import detector_agreement
        from edgeface.models.mtcnn import KerasMtcnnNets
        from edgeface.runtime.tflite_mtcnn import TfliteMtcnnNets

        images = self.agreement_images()
        float_nets = KerasMtcnnNets()
        draft = Manifest(models=self.entries)
        # edgetpu: same graph as int8 with uint8 I/O; its numbers are int8's (and the TPU's own, when compiled)
        measured = [variant for variant in self.config.variants if variant != "edgetpu"]
        for variant in progress(measured, f"agreement with float on {len(images)} LFW pair images",
                                unit="variants"):
            nets = TfliteMtcnnNets(self.out, variant, draft)
            result = detector_agreement(images, float_nets, nets, self.cascade)
            self.log(f"MTCNN {variant} vs float: {json.dumps(result)}")
            for entry in self.entries:
                if entry.variant == variant and entry.role in ("pnet", "rnet", "onet"):
                    entry.accuracy = {"mtcnn_cascade_vs_float": result}
            entry = draft.find("facenet", variant)
            entry.accuracy["embedding_vs_float"] = self.facenet_agreement(entry)
            self.log(f"FaceNet {variant} vs float: {json.dumps(entry.accuracy['embedding_vs_float'])}")
            if draft.find("liveness_v2", variant):
                result = self.liveness_agreement(variant, draft)
                self.log(f"MiniFASNet {variant} vs float: {json.dumps(result)}")
                for entry in self.entries:
                    if entry.variant == variant and entry.role.startswith("liveness"):
                        entry.accuracy = {"live_score_vs_float": result}

    def calibration_faces(self) -> list:
        """(image, central face of the float cascade) of the calibration images: detected once, calibrating both the
        FaceNet and the anti-spoofing nets."""
        if self._calibration_faces is None:
            from edgeface.detector import FloatDetector

            names = draw(self.root, self.config.calibration)
            self._calibration_faces = central_faces(self.root, names, FloatDetector(self.cascade))
        return self._calibration_faces

    def picked_faces(self) -> list:
        """(image, central face of the float cascade) for each agreement image that has one (computed once)."""
        if self._picked is None:
            from edgeface.detector import FloatDetector
            from edgeface.runtime.cascade import detect_one

            detector = FloatDetector(self.cascade)
            picked = [(image, detect_one(detector, image)) for image in self.agreement_images()]
            self._picked = [(image, face) for image, face in picked if face is not None]
        return self._picked

    def liveness_agreement(self, variant: str, draft: Manifest) -> dict:
        """How far an exported pair of anti-spoofing nets moves the live score from the float nets'."""
        from edgeface.models.minifasnet import KerasMiniFasNets
        from edgeface.runtime.liveness import TfliteLiveness

        if self._float_liveness is None:
            reference = KerasMiniFasNets()
            self._float_liveness = np.array([reference.score(image, face) for image, face in self.picked_faces()])
        exported = TfliteLiveness(self.out, variant, draft)
        scores = np.array([exported.score(image, face) for image, face in self.picked_faces()])
        difference = np.abs(scores - self._float_liveness)
        return {"faces": len(scores), "mean_abs_difference": round(float(difference.mean()), 5),
                "max_abs_difference": round(float(difference.max()), 5)}

    def agreement_set(self) -> tuple[np.ndarray, np.ndarray]:
        """The agreement images' aligned faces (float cascade, central face) and the float reference's unit
        embeddings of them: computed once per export, then every FaceNet variant is measured against them."""
        if self._agreement is None:
            from edgeface.runtime.align import align_five_points

            faces = np.stack([align_five_points(im, f.landmarks) for im, f in self.picked_faces()])
            reference = self.facenet_reference(faces)
            self._agreement = faces, reference / np.linalg.norm(reference, axis=1, keepdims=True)
        return self._agreement

    def facenet_agreement(self, entry: ModelEntry) -> dict:
        """Cosine of an exported FaceNet's embeddings to the float reference's, face by face."""
        from edgeface.agreement import embedding_agreement
        from edgeface.runtime.align import embedder_input
        from edgeface.runtime.interpreter import TfliteModel

        faces, reference = self.agreement_set()
        model = TfliteModel(self.out, entry)
        inputs = embedder_input(faces, self.facenet_input_size)
        vectors = np.concatenate([model(inputs[i : i + 1])["embedding"] for i in range(len(inputs))])
        return embedding_agreement(reference, vectors)

    def write_manifest(self, operating_point: dict) -> Manifest:
        manifest = Manifest(models=self.entries, operating_point=operating_point, created_by="edgeface convert",
                            liveness=liveness_point() if any(e.role.startswith("liveness") for e in self.entries)
                            else {},
                            camera={"input_sizes": [list(s) for s in self.config.input_sizes],
                                    "min_face_size": self.config.min_face_size,
                                    "scale_factor": self.cascade.scale_factor,
                                    "thresholds": list(self.cascade.thresholds)})
        atomic_write_text(self.out / MANIFEST_NAME, manifest.to_json())
        return manifest


class ConvertError(EdgefaceError, ValueError):
    """A conversion that cannot produce everything it was asked for (refused before or instead of a partial folder)."""


LOG_NAME = "convert.log"


def convert_models(config: ConvertConfig) -> Manifest:
    """Every model asked for, or none: files are written into `<out>.incomplete/` and that folder replaces
    `<out>` only once the manifest is written. On failure the staging folder stays, with its log, and `<out>`
    is left as it was. TensorFlow/converter chatter goes to `<out>/convert.log`; the terminal shows progress."""
    final = Path(config.out_dir)
    if final.exists() and (not final.is_dir() or (any(final.iterdir()) and not (final / MANIFEST_NAME).is_file())):
        raise ConvertError(f"{final} exists and is not a models folder written by `edgeface convert` (no "
                           f"{MANIFEST_NAME}); choose another --out or remove it")
    if config.onnx is None:  # before minutes of MTCNN export: the FaceNet asked for must exist and be intact
        from edgeface.weights import checked_path

        checked_path("nns2_facenet.weights.h5")
    staging = final.with_name(final.name + ".incomplete")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        with quiet_terminal(staging / LOG_NAME):
            exporter = Exporter(config, staging)
            exporter.export_mtcnn()
            exporter.export_facenet()
            exporter.export_liveness()
            exporter.measure()
            # the NNS2's LFW thresholds do not describe an imported model: its folder gets none until measured
            manifest = exporter.write_manifest({} if config.onnx else operating_point())
    except Exception as error:
        raise ConvertError(f"{error} (nothing was published to {final}; the partial output and the log are in "
                           f"{staging})") from error
    publish(staging, final)
    return manifest


def summary_table(manifest: Manifest) -> str:
    """Size per (network, variant) with its measured agreement with float: MTCNN recall of float faces and
    landmark error on the agreement images, FaceNet mean cosine to the float embedding."""
    sizes: dict[tuple[str, str], int] = {}
    agreement: dict[tuple[str, str], str] = {}
    for entry in manifest.models:
        key = (entry.role.replace("_dynamic", ""), entry.variant)
        sizes[key] = sizes.get(key, 0) + entry.bytes
        cascade = entry.accuracy.get("mtcnn_cascade_vs_float")
        embedding = entry.accuracy.get("embedding_vs_float")
        live = entry.accuracy.get("live_score_vs_float")
        if live:
            agreement[key] = f"live score vs float: mean diff {live['mean_abs_difference']:.4f}, max {live['max_abs_difference']:.4f}"
        if cascade:
            agreement[key] = (f"cascade recall {100 * cascade['recall']:.2f}%, landmarks "
                              f"{cascade['mean_landmark_error_px']:.2f} px")
        elif embedding:
            agreement[key] = f"cosine to float {embedding['mean_cosine']:.5f} (min {embedding['min_cosine']:.4f})"
    rows = [f"{'model':13s} {'variant':8s} {'size':>11s}  agreement with float"]
    rows += [f"{role:13s} {variant:8s} {size / 1024:7.1f} KiB  {agreement.get((role, variant), '')}"
             for (role, variant), size in sorted(sizes.items())]
    return "\n".join(rows)


def publish(staging: Path, final: Path) -> None:
    """Replace `final` by the complete `staging` folder (two renames; the old folder is removed last)."""
    old = final.with_name(final.name + ".replaced")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    staging.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def fixed_batch(model):
    """The same network with batch size 1 in its input signature (static shapes for TFLite/Edge TPU)."""
    from tensorflow import keras

    inputs = keras.Input(model.input.shape[1:], batch_size=1, name="image")
    return keras.Model(inputs, model(inputs), name=model.name)


def compile_edgetpu(path: Path) -> dict:
    """Compile with edgetpu_compiler when it is installed; otherwise say clearly that and why it was skipped."""
    compiler = shutil.which("edgetpu_compiler")
    if compiler is None:
        return {"compiled": False, "reason": "edgetpu_compiler not on PATH (Debian/Ubuntu x86-64 package "
                                             "edgetpu-compiler from Coral's apt repository); model is Edge-TPU-ready int8"}
    result = subprocess.run([compiler, "-s", "-o", str(path.parent), str(path)], capture_output=True, text=True)
    return {"compiled": result.returncode == 0, "log": result.stdout[-4000:] + result.stderr[-1000:]}


def liveness_point() -> dict:
    """The anti-spoofing nets' live threshold (fixed on development data), with the sha256 of their weights."""
    from edgeface.weights import shipped_point

    return shipped_point("minifasnet")


def operating_point() -> dict:
    """The NNS2's LFW thresholds, plus the sha256 of the float weights they belong to (the gallery's model id)."""
    from edgeface.weights import shipped_point

    return shipped_point("nns2")
