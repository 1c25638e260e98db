"""Write some Tiny ImageNet classes as a folder of class folders (the ImageFolder layout).

    python scripts/tiny_imagenet_folder.py ../shared/datasets/tiny-imagenet-200-32px.tar.gz data/tiny-folder \
        --classes 10 --train 200 --val 50

writes data/tiny-folder/train/<wnid>/*.JPEG and data/tiny-folder/val/<wnid>/*.JPEG (the first
--classes wnids in sorted order, the first --train training and --val validation images of
each), or with --flat data/tiny-folder/<wnid>/*.JPEG holding both, for ``val_fraction`` to split.
The folder is then a study's ``dataset: folder`` with ``data_dir: data/tiny-folder``.
"""

import argparse
import tarfile
from pathlib import Path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", type=Path, help="tiny-imagenet-200-32px.tar.gz (or the 64 px .zip's tar)")
    parser.add_argument("out", type=Path, help="the folder to write")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--train", type=int, default=200, help="training images per class")
    parser.add_argument("--val", type=int, default=50, help="validation images per class")
    parser.add_argument("--flat", action="store_true", help="one set of class folders, no train/ val/")
    args = parser.parse_args(argv)
    with tarfile.open(args.archive) as archive:
        members = {m.name.removeprefix("./"): m for m in archive.getmembers() if m.isfile()}
        wnids = sorted(archive.extractfile(members["tiny-imagenet-200/wnids.txt"]).read().decode().split())
        wanted = wnids[:args.classes]
        annotations = archive.extractfile(members["tiny-imagenet-200/val/val_annotations.txt"]).read().decode()
        val_of = {}
        for line in sorted(annotations.splitlines()):
            name, wnid = line.split("\t")[:2]
            val_of.setdefault(wnid, []).append(f"tiny-imagenet-200/val/images/{name}")
        for wnid in wanted:
            train = sorted(n for n in members if n.startswith(f"tiny-imagenet-200/train/{wnid}/images/"))
            for side, names in (("train", train[:args.train]), ("val", val_of[wnid][:args.val])):
                folder = args.out / wnid if args.flat else args.out / side / wnid
                folder.mkdir(parents=True, exist_ok=True)
                for name in names:
                    (folder / Path(name).name).write_bytes(archive.extractfile(members[name]).read())
    print(f"{len(wanted)} classes written to {args.out}")


if __name__ == "__main__":
    main()
