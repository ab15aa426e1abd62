# Copyright (c) mmspecgene contributors. All rights reserved.
"""Class names and palettes of the supported datasets (exact strings of the released configs).

The one source of the class tuples: the dataset classes' ``METAINFO``, the dataset converters and the synthetic data
generator all import them from here.
"""

# Detection (category ids in the converted COCO jsons are 1 + the position in these tuples).
PERSON_CLASSES = ('person', )
KAIST_CLASSES = PERSON_CLASSES
LLVIP_CLASSES = PERSON_CLASSES
FLIR_CLASSES = ('person', 'bicycle', 'car')
PERSON_PALETTE = [(220, 20, 60)]
FLIR_PALETTE = [(220, 20, 60), (119, 11, 32), (0, 0, 142)]
SYNTHETIC_DET_CLASSES = ('person', 'car')
SYNTHETIC_DET_PALETTE = [(220, 20, 60), (0, 0, 142)]

# Segmentation and SOD.
SEG_PALETTE = [
    (0, 0, 0), (0, 0, 142), (0, 60, 100), (0, 0, 230), (119, 11, 32), (255, 0, 0), (0, 139, 139),
    (255, 165, 150), (192, 64, 0), (211, 211, 211), (100, 33, 128), (117, 79, 86), (153, 153, 153),
    (190, 122, 222), (250, 170, 30), (220, 220, 0), (222, 142, 35), (205, 155, 155), (70, 130, 180),
    (128, 64, 128), (244, 35, 232), (0, 0, 70), (107, 142, 35), (152, 251, 152), (70, 70, 70), (110, 80, 100)
]

MVSEG_CLASSES = ('Background', 'Car', 'Bus', 'Motorcycle', 'Bicycle', 'Pedestrian', 'Motorcyclist', 'Bicyclist',
                 'Cart', 'Bench', 'Umbrella', 'Box', 'Pole', 'Street_lamp', 'Traffic_light', 'Traffic_sign',
                 'Car_stop', 'Color_cone', 'Sky', 'Road', 'Sidewalk', 'Curb', 'Vegetation', 'Terrain', 'Building',
                 'Ground')
SEMANTICRT_CLASSES = ('Background', 'Car_Stop', 'Bike', 'Bicyclist', 'Motorcycle', 'Motorcyclist', 'Car',
                      'Tricycle', 'Traffic_light', 'Box', 'Pole', 'Curve', 'Person')
FMB_CLASSES = ('Background', 'Road', 'Sidewalk', 'Building', 'Traffic Light', 'Traffic Sign', 'Vegetation', 'Sky',
               'Person', 'Car', 'Truck', 'Bus', 'Motorcycle', 'Bicycle', 'Pole')

SOD_CLASSES = ('Background', 'Saliency')
SOD_PALETTE = [(0, 0, 0), (150, 150, 0)]

SYNTHETIC_SEG_CLASSES = ('Background', 'Person', 'Car', 'Road')
SYNTHETIC_SEG_PALETTE = [(0, 0, 0), (220, 20, 60), (0, 0, 142), (128, 64, 128)]
